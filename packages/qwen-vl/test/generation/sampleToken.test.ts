import { describe, expect, it } from "vitest";
import { makeRandom, streamSeed } from "../../src/internal/generation/random.js";
import { sampleToken, tokenLogprob } from "../../src/internal/generation/sampleToken.js";

/** p = [0.5, 0.3, 0.15, 0.05] at temperature 1. */
const row = [Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)];

const frequencies = (settings: Parameters<typeof sampleToken>[1], draws: number) => {
  const random = makeRandom(streamSeed(11, 0, 0));
  const counts = [0, 0, 0, 0];
  for (let draw = 0; draw < draws; draw++) counts[sampleToken(row, settings, random).token]! += 1;
  return counts.map((count) => count / draws);
};

describe("sampleToken", () => {
  it("greedy (temperature 0) takes the argmax with its temperature-1 log-probability", () => {
    const sampled = sampleToken(row, { temperature: 0 }, makeRandom(1));
    expect(sampled.token).toBe(0);
    expect(sampled.logprob).toBeCloseTo(Math.log(0.5), 12);
  });

  it("reports the full tempered distribution's log-probability (hand-worked at T = 0.5)", () => {
    // p_T ∝ p^(1/T) = p²: [0.25, 0.09, 0.0225, 0.0025] / 0.365
    expect(tokenLogprob(row, 1, 0.5)).toBeCloseTo(Math.log(0.09 / 0.365), 12);
    const random = makeRandom(3);
    for (let draw = 0; draw < 50; draw++) {
      const sampled = sampleToken(row, { temperature: 0.5, topK: 2 }, random);
      const expected = [0.25, 0.09, 0.0225, 0.0025][sampled.token]! / 0.365;
      expect(sampled.logprob).toBeCloseTo(Math.log(expected), 12);
    }
  });

  it("samples the untruncated distribution at temperature 1", () => {
    const observed = frequencies({ temperature: 1 }, 20_000);
    [0.5, 0.3, 0.15, 0.05].forEach((p, index) => {
      expect(Math.abs(observed[index]! - p)).toBeLessThan(0.015);
    });
  });

  it("top-k keeps the k most likely tokens and renormalises", () => {
    const observed = frequencies({ temperature: 1, topK: 2 }, 20_000);
    expect(Math.abs(observed[0]! - 0.625)).toBeLessThan(0.015);
    expect(Math.abs(observed[1]! - 0.375)).toBeLessThan(0.015);
    expect(observed[2]! + observed[3]!).toBe(0);
  });

  it("top-p keeps the smallest most-likely set reaching p (0.5 + 0.3 ≥ 0.7)", () => {
    const observed = frequencies({ temperature: 1, topP: 0.7 }, 20_000);
    expect(Math.abs(observed[0]! - 0.625)).toBeLessThan(0.015);
    expect(observed[2]! + observed[3]!).toBe(0);
    // p = 0.5 exactly is reached by the first token alone.
    expect(frequencies({ temperature: 1, topP: 0.5 }, 2000)[0]).toBe(1);
    // 0.81 needs three tokens.
    const three = frequencies({ temperature: 1, topP: 0.81 }, 20_000);
    expect(three[3]).toBe(0);
    expect(Math.abs(three[2]! - 0.15 / 0.95)).toBeLessThan(0.015);
  });

  it("a seeded stream is reproducible and streams differ", () => {
    const a = makeRandom(streamSeed(5, 2, 1));
    const b = makeRandom(streamSeed(5, 2, 1));
    const c = makeRandom(streamSeed(5, 1, 2));
    const draws = (random: ReturnType<typeof makeRandom>) => Array.from({ length: 8 }, () => random.next());
    const first = draws(a);
    expect(draws(b)).toEqual(first);
    expect(draws(c)).not.toEqual(first);
    expect(first.every((value) => value >= 0 && value < 1)).toBe(true);
  });
});

describe("sampleToken with suppressed ids", () => {
  it("never draws a suppressed id, yet reports the full distribution's log-probability", () => {
    const random = makeRandom(9);
    const suppress = new Set([0]);
    expect(sampleToken(row, { temperature: 0, suppress }, random).token).toBe(1);
    const counts = [0, 0, 0, 0];
    for (let draw = 0; draw < 10_000; draw++) {
      const sampled = sampleToken(row, { temperature: 1, suppress }, random);
      counts[sampled.token]! += 1;
      expect(sampled.logprob).toBeCloseTo(row[sampled.token]!, 12);
    }
    expect(counts[0]).toBe(0);
    expect(Math.abs(counts[1]! / 10_000 - 0.6)).toBeLessThan(0.02);
  });
});

/** Brute force: sort the whole vocabulary, keep top-k then the top-p nucleus, draw with one uniform. */
const naiveSample = (
  values: ReadonlyArray<number>,
  temperature: number,
  topK: number,
  topP: number,
  u: number,
) => {
  const ids = values.map((_, id) => id).sort((a, b) => values[b]! - values[a]! || a - b);
  const kept = topK > 0 ? ids.slice(0, topK) : ids;
  const max = values[kept[0]!]! / temperature;
  const weights = kept.map((id) => Math.exp(values[id]! / temperature - max));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let count = 0;
  let cumulative = 0;
  while (count < weights.length && (count === 0 || cumulative < topP * total))
    cumulative += weights[count++]!;
  const mass = weights.slice(0, count).reduce((sum, weight) => sum + weight, 0);
  let threshold = u * mass;
  for (let index = 0; index < count; index++) {
    threshold -= weights[index]!;
    if (threshold < 0) return kept[index]!;
  }
  return kept[count - 1]!;
};

describe("sampleToken over a large vocabulary", () => {
  it("matches a brute-force top-k/top-p sampler draw for draw", () => {
    const source = makeRandom(21);
    const values = Array.from({ length: 3000 }, () => (source.next() - 0.5) * 40);
    for (const [temperature, topK, topP] of [
      [1, 50, 1],
      [0.7, 0, 0.9],
      [1.3, 20, 0.5],
      [1, 0, 0.999],
    ] as const) {
      const random = makeRandom(streamSeed(3, topK, 0));
      const replay = makeRandom(streamSeed(3, topK, 0));
      for (let draw = 0; draw < 200; draw++) {
        const sampled = sampleToken(values, { temperature, topK, topP }, random).token;
        expect(sampled).toBe(naiveSample(values, temperature, topK, topP, replay.next()));
      }
    }
  });
});
