/** Seeded generators of adversarial text for property-style tests. */

/** mulberry32: a small seeded PRNG, so a failing seed can be replayed. */
export function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const PIECES = [
  '@everyone',
  '@here',
  '<@&1>',
  '<@123456789012345678>',
  '<@!42>',
  '@',
  '<',
  'everyone',
  '👨‍👩‍👧‍👦',
  '👍🏽',
  '🇯🇵',
  'e\u0301\u0302',
  '\u0000',
  '\u001b[31m',
  '\r\n',
  '\r',
  '\t',
  '\n\n',
  '\uD83D',
  '\uDE00',
  '[label](https://example.com/x)',
  '[[machine:eight-ball-deluxe]]',
  '[[problem-report:12]]',
  '[[widget:oops]]',
  '](',
  '[',
  '**bold**',
  ' ',
  'word ',
  '中文',
  '\u200d',
  '\u202e',
  '\uFEFF',
];

export function randomText(r: () => number, maxLen: number): string {
  const target = Math.floor(r() ** 3 * maxLen);
  const parts: string[] = [];
  let len = 0;
  while (len < target) {
    const roll = r();
    let piece: string;
    if (roll < 0.5) piece = PIECES[Math.floor(r() * PIECES.length)]!;
    else if (roll < 0.8) piece = 'lorem ipsum dolor '.slice(0, 1 + Math.floor(r() * 18));
    else if (roll < 0.95) piece = String.fromCodePoint(Math.floor(r() * 0x10ffff)).replace(/[\uD800-\uDFFF]/g, '');
    else piece = 'x'.repeat(Math.floor(r() * 2000));
    parts.push(piece);
    len += piece.length;
  }
  return parts.join('');
}
