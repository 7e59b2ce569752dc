// wordcount: lines, words and characters of a UTF-8 text, like `wc` but counted the way a
// person reads them: a last line without a newline still counts, chars are code points.
// It walks UTF-16 units rather than testing a regex per character, for big texts.

// The characters JavaScript's \s matches.
function isSpace(c) {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

// biome-ignore lint/correctness/noUnusedVariables: the sandbox calls main.
function main(input) {
  const text = meshbot.textDecode(input);
  const n = text.length;
  let lines = 0;
  let words = 0;
  let chars = 0;
  let inWord = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    // The low half of a surrogate pair is not a character of its own.
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const prev = text.charCodeAt(i - 1);
      if (prev >= 0xd800 && prev <= 0xdbff) continue;
    }
    chars++;
    if (c === 0x0a) lines++;
    if (isSpace(c)) {
      inWord = false;
    } else if (!inWord) {
      inWord = true;
      words++;
    }
    if ((i & 0xfffff) === 0xfffff) meshbot.progress(i / n);
  }
  if (n > 0 && text.charCodeAt(n - 1) !== 0x0a) lines++;
  return { lines, words, chars };
}
