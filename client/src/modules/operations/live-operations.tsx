import { useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Area, AreaChart, Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { isApiError } from '../../lib/api';
import { operationsQuery } from './api/operations-api';

const REFRESH_MS = 10_000;
const minute = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** The project's last hour, refreshed every ten seconds: the queue, the work done, who is working. */
export function LiveOperations({ slug }: { slug: string }) {
  const [minutes, setMinutes] = useState(60);
  const reply = useQuery({ ...operationsQuery(slug, minutes), refetchInterval: REFRESH_MS, placeholderData: keepPreviousData });
  const data = reply.data ?? null;
  const error = reply.isError ? (isApiError(reply.error) ? reply.error.message : 'Operations could not be loaded.') : null;

  const points = (data?.points ?? []).map((p) => ({ ...p, label: minute.format(new Date(p.at)) }));
  const total = (key: 'answers' | 'created' | 'expired' | 'done') => points.reduce((sum, p) => sum + p[key], 0);

  return (
    <section className="admin-section" aria-labelledby="ops-title" data-testid="live-operations">
      <div className="admin-section__head">
        <h2 id="ops-title">Live operations</h2>
        <label className="admin-section__control">
          Window{' '}
          <select value={minutes} onChange={(event) => setMinutes(Number(event.target.value))}>
            <option value={15}>15 minutes</option>
            <option value={60}>1 hour</option>
            <option value={360}>6 hours</option>
            <option value={1440}>24 hours</option>
          </select>
        </label>
      </div>
      {error ? <p className="admin-section__lede">{error}</p> : null}
      <dl className="ops-tiles">
        <div>
          <dt>Open tasks now</dt>
          <dd data-testid="ops-open">{points.at(-1)?.open ?? '…'}</dd>
        </div>
        <div>
          <dt>Raters holding a task</dt>
          <dd data-testid="ops-active">{data ? data.activeRaters : '…'}</dd>
        </div>
        <div>
          <dt>Answers in the window</dt>
          <dd data-testid="ops-answers">{data ? total('answers') : '…'}</dd>
        </div>
        <div>
          <dt>Leases run out unanswered</dt>
          <dd data-testid="ops-expired">{data ? total('expired') : '…'}</dd>
        </div>
      </dl>
      <div className="ops-chart" role="img" aria-label={`Open tasks over the last ${minutes} minutes`}>
        <h3 className="ops-chart__title">Open tasks</h3>
        <ResponsiveContainer width="100%" height={180}>
          <AreaChart data={points} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="#e4ded3" vertical={false} />
            <XAxis dataKey="label" tick={{ fontSize: 12 }} minTickGap={40} />
            <YAxis allowDecimals={false} tick={{ fontSize: 12 }} width={40} />
            <Tooltip />
            <Area type="stepAfter" dataKey="open" name="open tasks" stroke="#0c6b66" fill="#d5efeb" isAnimationActive={false} />
          </AreaChart>
        </ResponsiveContainer>
      </div>
      <div className="ops-chart" role="img" aria-label={`Answers and new tasks per minute over the last ${minutes} minutes`}>
        <h3 className="ops-chart__title">Throughput per minute</h3>
        <ResponsiveContainer width="100%" height={200}>
          <ComposedChart data={points} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="#e4ded3" vertical={false} />
            <XAxis dataKey="label" tick={{ fontSize: 12 }} minTickGap={40} />
            <YAxis allowDecimals={false} tick={{ fontSize: 12 }} width={40} />
            <Tooltip />
            <Legend />
            <Bar dataKey="answers" name="answers" fill="#11807a" isAnimationActive={false} />
            {/* counts per minute: bars, and a step held over each minute (a smoothed line drew values between minutes that never were) */}
            <Bar dataKey="created" name="new tasks" fill="#c2661c" isAnimationActive={false} />
            <Line type="step" dataKey="raters" name="raters answering" stroke="#264656" strokeDasharray="4 3" dot={false} isAnimationActive={false} />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
    </section>
  );
}
