import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { MemberResponse, MemberRole, RaterQuality } from '@backflow/contracts';
import { describeError } from '../../../lib/error-headings';
import { Alert } from '../../../ui/alert';
import { Button } from '../../../ui/button';
import { TextField } from '../../../ui/text-field';
import { createUser, usersQuery } from '../../users/api/users-api';
import { addMember, membersQuery, ratersQuery, removeMember, resumeRater } from '../api/projects-api';

const percent = (value: number | null) => (value === null ? '—' : `${Math.round(value * 100)}%`);
const seconds = (ms: number | null) => (ms === null ? '—' : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

/** Who works on the project: members and their roles, new people, and each rater's record. */
export function ProjectPeople({ slug }: { slug: string }) {
  const queryClient = useQueryClient();
  const membersReply = useQuery(membersQuery(slug));
  const ratersReply = useQuery(ratersQuery(slug));
  const members = membersReply.data ?? null;
  const raters = ratersReply.data ?? null;
  const [failure, setFailure] = useState<{ heading: string; message: string } | null>(null);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<MemberRole>('rater');
  const loadError = membersReply.error ?? ratersReply.error;
  const error = failure ?? (loadError ? describeError(loadError, 'Members could not be loaded.') : null);

  // members and raters are one roster: a change to either is read again in both
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: membersQuery(slug).queryKey }),
      queryClient.invalidateQueries({ queryKey: ratersQuery(slug).queryKey }),
    ]);
  const fail = (fallback: string) => (cause: Error) => setFailure(describeError(cause, fallback));

  const addition = useMutation({
    mutationFn: async () => {
      // a new person gets an account first (with the password given here); someone known is only added
      if (password) {
        await createUser({ email, password, role });
        void queryClient.invalidateQueries({ queryKey: usersQuery().queryKey });
      }
      await addMember(slug, { email, role });
    },
    onMutate: () => setFailure(null),
    onSuccess: () => {
      setEmail('');
      setPassword('');
      return refresh();
    },
    onError: fail('The member could not be added.'),
  });
  const removal = useMutation({
    mutationFn: (member: MemberResponse) => removeMember(slug, member.userId),
    onSuccess: refresh,
    onError: fail('The member could not be removed.'),
  });
  const resumption = useMutation({
    mutationFn: (rater: RaterQuality) => resumeRater(slug, rater.raterId),
    onSuccess: refresh,
    onError: fail('The rater could not be resumed.'),
  });

  const add = (event: FormEvent) => {
    event.preventDefault();
    addition.mutate();
  };

  const remove = (member: MemberResponse) => {
    if (window.confirm(`Remove ${member.email} from this project? Their answers stay.`)) removal.mutate(member);
  };

  return (
    <>
      <section className="admin-section" aria-labelledby="members-title">
        <h2 id="members-title">Members</h2>
        {error ? (
          <Alert title={error.heading}>
            <p>{error.message}</p>
          </Alert>
        ) : null}
        <form className="admin-form admin-form--inline admin-form--row" onSubmit={add}>
          <TextField label="Email" name="memberEmail" type="email" value={email} required onChange={(event) => setEmail(event.target.value)} />
          <TextField
            label="Password for a new account"
            name="memberPassword"
            type="password"
            hint="Leave empty to add someone who already has an account."
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
          <label className="admin-form__select">
            Role
            <select value={role} onChange={(event) => setRole(event.target.value as MemberRole)}>
              <option value="rater">rater</option>
              <option value="reviewer">reviewer</option>
            </select>
          </label>
          <Button type="submit" busy={addition.isPending} disabled={!email.trim()}>
            Add member
          </Button>
        </form>
        {members === null ? (
          <p>Loading members…</p>
        ) : members.length === 0 ? (
          <p className="admin-section__lede">Nobody works on this project yet.</p>
        ) : (
          <table className="admin-table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {members.map((member) => (
                <tr key={member.userId} data-testid="member-row">
                  <td>{member.email}</td>
                  <td>{member.role}</td>
                  <td>
                    <Button variant="secondary" onClick={() => remove(member)} aria-label={`Remove ${member.email}`}>
                      Remove
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section className="admin-section" aria-labelledby="raters-title">
        <h2 id="raters-title">Raters</h2>
        <p className="admin-section__lede">
          Agreement is the share of a rater's answers that match the final label; gold accuracy is measured on items whose label is known.
        </p>
        {raters === null ? (
          <p>Loading raters…</p>
        ) : raters.length === 0 ? (
          <p className="admin-section__lede">No raters yet: add members above.</p>
        ) : (
          <table className="admin-table" data-testid="raters-table">
            <thead>
              <tr>
                <th scope="col">Rater</th>
                <th scope="col">Answers</th>
                <th scope="col">Median time</th>
                <th scope="col">Agreement</th>
                <th scope="col">Gold accuracy</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {raters.map((rater) => (
                <tr key={rater.raterId}>
                  <td>{rater.email}</td>
                  <td>{rater.annotations}</td>
                  <td>{seconds(rater.medianTimeMs)}</td>
                  <td>{percent(rater.agreement)}</td>
                  <td>{rater.goldAnswers ? `${percent(rater.goldAccuracy)} of ${rater.goldAnswers}` : '—'}</td>
                  <td>
                    {rater.pausedAt ? (
                      <Button variant="secondary" onClick={() => resumption.mutate(rater)} aria-label={`Resume ${rater.email}`}>
                        Paused: resume
                      </Button>
                    ) : (
                      'active'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
