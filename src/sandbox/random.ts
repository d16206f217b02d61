// Seeded random choices (mulberry32), so a run of the sandbox can be repeated exactly.

export class Random {
  private state: number;

  constructor(seed: number | null) {
    this.state = 0;
    this.reseed(seed);
  }

  reseed(seed: number | null): void {
    this.state = (seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** True with the given probability. */
  chance(probability: number): boolean {
    return probability > 0 && this.next() < probability;
  }

  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** A key of `weights` chosen in proportion to its weight (weights are not all zero). */
  weighted<K extends string>(weights: Record<K, number>): K {
    const keys = Object.keys(weights) as K[];
    let total = 0;
    for (const key of keys) total += weights[key];
    let point = this.next() * total;
    for (const key of keys) {
      point -= weights[key];
      if (point < 0 && weights[key] > 0) return key;
    }
    return keys.filter((k) => weights[k] > 0).at(-1) as K;
  }
}
