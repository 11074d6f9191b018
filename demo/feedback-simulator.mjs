// What the mail product's users do after the filter decides, sent through libs/client-ts: some report the spam that
// reached their inbox, some rescue the mail they wanted from the spam folder, a few report mail they simply did not
// want (noise), and they do it seconds to minutes later.
export const FEEDBACK_RULES = {
  rules: [
    { eventType: 'report_spam', label: 'spam', windowMinutes: 1_440, priority: 5 },
    { eventType: 'not_spam', label: 'ham', windowMinutes: 1_440, priority: 10 },
  ],
};

const BEHAVIOUR = {
  reportSpamInInbox: 0.3,
  rescueHamFromSpamFolder: 0.4,
  reportWantedMail: 0.02,
  rescueSpam: 0.01,
};

/** The event a user sends about a filtered email, if any: `{type, delayMs}` or undefined. */
export function userReaction(email, predicted, random) {
  const draw = random();
  let type;
  if (predicted === 'ham') {
    if (email.label === 'spam' && draw < BEHAVIOUR.reportSpamInInbox) type = 'report_spam';
    else if (email.label === 'ham' && draw < BEHAVIOUR.reportWantedMail) type = 'report_spam';
  } else {
    if (email.label === 'ham' && draw < BEHAVIOUR.rescueHamFromSpamFolder) type = 'not_spam';
    else if (email.label === 'spam' && draw < BEHAVIOUR.rescueSpam) type = 'not_spam';
  }
  // most people act within a minute, some much later
  return type && { type, delayMs: Math.round(2_000 + -Math.log(1 - random()) * 20_000) };
}

export class FeedbackSimulator {
  constructor({ backflow, random }) {
    this.backflow = backflow;
    this.random = random;
    this.timers = new Set();
    this.sent = 0;
  }

  /** Schedules the user's reaction to a prediction, if they have one. */
  observe(predictionId, email, predicted) {
    const reaction = userReaction(email, predicted, this.random);
    if (!reaction) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.backflow.feedback({ id: `${reaction.type}-${predictionId}`, predictionId, type: reaction.type, occurredAt: new Date() });
      this.sent++;
    }, reaction.delayMs);
    this.timers.add(timer);
  }

  stop() {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
