/**
 * A KLL quantile sketch (Karnin, Lang and Liberty, "Optimal Quantile Approximation in Streams",
 * 2016), the sketch TFDV's statistics use for quantiles and histograms: levels of compactors,
 * level h holding items of weight 2^h; a full level is sorted and every other item moves up. With
 * k = 200 the rank error stays within about 1.65% of the count (the bound Apache DataSketches
 * states for k = 200), in memory that grows with the logarithm of the count.
 *
 * The coin that picks which half moves up alternates instead of being random, so the same values
 * in the same order give the same sketch (an export run twice writes the same statistics).
 */
// the smallest capacity of a level (Apache DataSketches' m)
const MIN_WIDTH = 8;

export class KllSketch {
  private levels: number[][] = [[]];
  private count = 0;
  private coin = false;

  constructor(private readonly k = 200) {}

  get n(): number {
    return this.count;
  }

  update(value: number, weight = 1): void {
    // a weight is added as its binary digits, each at the level of its power of two
    for (let level = 0, rest = weight; rest > 0; level++, rest = Math.floor(rest / 2)) {
      if (rest % 2 === 0) continue;
      while (this.levels.length <= level) this.levels.push([]);
      this.levels[level].push(value);
      this.items++;
      this.count += 2 ** level;
      // lazily, as the sketch's authors and Apache DataSketches do: one level is compacted when the whole is full
      while (this.items >= this.totalCapacity()) this.compactLowestFull();
    }
  }

  private items = 0;

  private capacity(level: number): number {
    const depth = this.levels.length - level - 1;
    return Math.max(MIN_WIDTH, Math.floor(this.k * (2 / 3) ** depth));
  }

  private totalCapacity(): number {
    let total = 0;
    for (let level = 0; level < this.levels.length; level++) total += this.capacity(level);
    return total;
  }

  /** The lowest level at its capacity, sorted; every other item moves up a level, at twice the weight. */
  private compactLowestFull(): void {
    const level = this.levels.findIndex((items, h) => items.length >= this.capacity(h));
    if (level + 1 === this.levels.length) this.levels.push([]);
    const items = this.levels[level].sort((a, b) => a - b);
    // an odd item out stays at its level
    const kept = items.length % 2 === 1 ? [items.pop()!] : [];
    this.coin = !this.coin;
    const up = this.levels[level + 1];
    for (let i = this.coin ? 1 : 0; i < items.length; i += 2) up.push(items[i]);
    this.items -= items.length / 2;
    this.levels[level] = kept;
  }

  /** The items with their weights, in ascending order. */
  private weighted(): Array<[number, number]> {
    const all: Array<[number, number]> = [];
    this.levels.forEach((items, level) => {
      for (const item of items) all.push([item, 2 ** level]);
    });
    return all.sort((a, b) => a[0] - b[0]);
  }

  /** The smallest item whose cumulative weight reaches `q` of the count (q = 0: the smallest item). */
  quantiles(qs: readonly number[]): number[] {
    const all = this.weighted();
    if (all.length === 0) return qs.map(() => NaN);
    return qs.map((q) => {
      const target = q * this.count;
      let cumulative = 0;
      for (const [item, weight] of all) {
        cumulative += weight;
        if (cumulative >= target && cumulative > 0) return item;
      }
      return all[all.length - 1][0];
    });
  }

  /** The estimated weight of items at or under `value`. */
  rank(value: number): number {
    let weight = 0;
    this.levels.forEach((items, level) => {
      for (const item of items) if (item <= value) weight += 2 ** level;
    });
    return weight;
  }
}
