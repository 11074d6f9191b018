import { randomUUID } from 'node:crypto';
import { mulberry32 } from '@backflow/ranking';

/** The examination probability at position k of the simulated users: 1 / k^0.8. */
export const examination = (k: number) => 1 / k ** 0.8;

export interface RecommenderTraffic {
  predictions: Array<Record<string, unknown>>;
  /** click events, each naming its list (`predictionId`) and the candidate (`item`) */
  events: Array<Record<string, unknown>>;
}

/**
 * A recommender's traffic with a known click model, for a ranking question named `runs`: two
 * cohorts get `listsPerDay` lists a day for `days` days ending at `now`, each of `positions`
 * runs from a catalog of 40 with attractions of their own; the model orders them by a noisy view
 * of the attraction (so raw click-through per position mixes position and relevance); a user
 * clicks a run with probability examination(position) × attraction. From `shiftDay` on, the
 * `new` cohort's attractions halve: a sudden drop; the `old` cohort stays as it was. Seeded.
 */
export function recommenderTraffic(options: {
  days: number;
  listsPerDay: number;
  positions: number;
  shiftDay: number;
  now: number;
  seed?: number;
}): RecommenderTraffic {
  const random = mulberry32(options.seed ?? 20261203);
  const catalog = Array.from({ length: 40 }, (_, i) => ({ item: `run-${i}`, attraction: 0.05 + 0.5 * random() }));
  const start = options.now - options.days * 24 * 3_600_000;
  const predictions: RecommenderTraffic['predictions'] = [];
  const events: RecommenderTraffic['events'] = [];
  for (let day = 0; day < options.days; day++) {
    for (const cohort of ['new', 'old']) {
      for (let n = 0; n < options.listsPerDay; n++) {
        const id = randomUUID();
        const at = start + day * 24 * 3_600_000 + Math.floor(random() * 20 * 3_600_000);
        const pool = [...catalog].sort(() => random() - 0.5).slice(0, options.positions);
        const shown = pool
          .map((c) => ({ ...c, score: c.attraction + 0.3 * (random() - 0.5) }))
          .sort((a, b) => b.score - a.score)
          .map((c, i) => ({ ...c, position: i + 1 }));
        predictions.push({
          id,
          model: { name: 'recommender', version: day < options.days / 2 ? '1' : '2' },
          input: { user_id: `u-${n}` },
          slice: { cohort },
          timestamp: new Date(at).toISOString(),
          suggestions: { runs: { candidates: shown.map(({ item, score, position }) => ({ item, score, position })) } },
        });
        const shifted = cohort === 'new' && day >= options.shiftDay ? 0.5 : 1;
        for (const c of shown)
          if (random() < examination(c.position) * c.attraction * shifted)
            events.push({ id: randomUUID(), predictionId: id, type: 'click', item: c.item, occurredAt: new Date(at + 60_000).toISOString() });
      }
    }
  }
  return { predictions, events };
}
