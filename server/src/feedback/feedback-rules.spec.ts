import { FeedbackRules } from '@backflow/contracts';
import { absenceClosesAt, decideByAbsence, decideFromEvents } from './feedback-rules';

const at = (minutes: number) => new Date(Date.UTC(2026, 10, 26, 12, minutes));
const labels = ['relevant', 'irrelevant', 'spam'];
const rules: FeedbackRules = {
  rules: [
    { eventType: 'click', label: 'relevant', windowMinutes: 30, priority: 0 },
    { eventType: 'purchase', label: 'relevant', windowMinutes: 60, priority: 5 },
    { eventType: 'dismiss', label: 'irrelevant', windowMinutes: 30, priority: 1 },
    { eventType: 'rating', valueEquals: 1, label: 'irrelevant', windowMinutes: 60, priority: 2 },
    { eventType: 'correction', label: '$value', windowMinutes: 1440, priority: 10 },
  ],
  absence: { label: 'irrelevant', windowMinutes: 30 },
};
const event = (id: string, type: string, minute: number, value?: unknown) => ({ id, type, value, occurredAt: at(minute) });

describe('decideFromEvents', () => {
  it.each([
    ['no events', [], undefined],
    ['a click inside the window', [event('e1', 'click', 10)], { label: 'relevant', rule: 'rules[0]', eventId: 'e1' }],
    ['a click after the window', [event('e1', 'click', 31)], undefined],
    [
      'a click a little before the prediction (clock skew)',
      [{ id: 'e1', type: 'click', value: undefined, occurredAt: new Date(at(0).getTime() - 30_000) }],
      { label: 'relevant', rule: 'rules[0]', eventId: 'e1' },
    ],
    ['an event type no rule names', [event('e1', 'hover', 1)], undefined],
    [
      'dismiss (priority 1) beats click (priority 0)',
      [event('e1', 'click', 1), event('e2', 'dismiss', 2)],
      { label: 'irrelevant', rule: 'rules[2]', eventId: 'e2' },
    ],
    [
      'purchase (priority 5) beats a later dismiss',
      [event('e1', 'purchase', 1), event('e2', 'dismiss', 20)],
      { label: 'relevant', rule: 'rules[1]', eventId: 'e1' },
    ],
    ['equal priority: the latest event', [event('e1', 'click', 1), event('e2', 'click', 5)], { label: 'relevant', rule: 'rules[0]', eventId: 'e2' }],
    ['a value condition that holds', [event('e1', 'rating', 3, 1)], { label: 'irrelevant', rule: 'rules[3]', eventId: 'e1' }],
    ['a value condition that fails', [event('e1', 'rating', 3, 5)], undefined],
    [
      'a correction to a project label',
      [event('e1', 'correction', 100, 'spam'), event('e2', 'purchase', 1)],
      { label: 'spam', rule: 'rules[4]', eventId: 'e1' },
    ],
    ['a correction to an unknown label', [event('e1', 'correction', 100, 'bacon')], undefined],
    [
      'ground truth outranks every rule, however late',
      [event('e1', 'correction', 100, 'spam'), event('e2', 'truth', 600_000, 'relevant')],
      { label: 'relevant', rule: 'truth', eventId: 'e2' },
    ],
    [
      'the latest ground truth wins',
      [event('e1', 'truth', 1, 'spam'), event('e2', 'truth', 5, 'irrelevant')],
      { label: 'irrelevant', rule: 'truth', eventId: 'e2' },
    ],
    [
      'ground truth naming no label is ignored',
      [event('e1', 'truth', 1, 'bacon'), event('e2', 'click', 2)],
      { label: 'relevant', rule: 'rules[0]', eventId: 'e2' },
    ],
  ])('%s', (_, events, expected) => {
    expect(decideFromEvents(at(0), events, rules, labels)).toEqual(expected);
  });
});

describe('absence', () => {
  it('labels by absence when the project says so, at the end of its window', () => {
    expect(decideByAbsence(rules)).toEqual({ label: 'irrelevant', rule: 'absence', eventId: null });
    expect(absenceClosesAt(at(0), rules)).toEqual(at(30));
    expect(decideByAbsence({ rules: [] })).toBeUndefined();
    expect(absenceClosesAt(at(0), { rules: [] })).toBeUndefined();
  });
});
