import { describe, expect, it } from 'vitest';
import { randomToken } from '../../src/transport/tokens.js';

describe('random tokens', () => {
  it('are 144 bits of base64url, and never repeat across the fills of their byte pool', () => {
    // 1,000 tokens span several fills of 256: a fill that was reused or overlapped would repeat one.
    const tokens = Array.from({ length: 1000 }, () => randomToken());
    expect(tokens.every((t) => /^[A-Za-z0-9_-]{24}$/.test(t))).toBe(true);
    expect(new Set(tokens).size).toBe(1000);
    // Their bytes look random: every base64url character shows up across 24,000 of them.
    expect(new Set(tokens.join('')).size).toBe(64);
  });
});
