#!/bin/sh
# docker-json-runner: reads the JSON input at $MESHBOT_INPUT ({"n": 50} or 50), writes the
# JSON result to $MESHBOT_OUTPUT: {"n": 50, "sum": <F(1) + ... + F(n)>}, exact for any n
# (decimal strings are added digit by digit; sums past 2^53 are written as strings).
set -eu
raw="$(tr -d ' \t\r\n' <"$MESHBOT_INPUT")"
n="$(printf '%s' "$raw" | sed -n -e 's/^{"n":\([0-9]*\)}$/\1/' -e '/^[0-9][0-9]*$/p')"
if [ -z "$n" ] || [ "${#n}" -gt 5 ] || [ "$n" -gt 10000 ]; then
  echo "input must be {\"n\": N} or N, with 0 <= N <= 10000" >&2
  exit 2
fi
echo "summing F(1)..F($n)" >&2
awk -v n="$n" '
  function add(a, b,   r, c, i, j, d) {
    r = ""; c = 0; i = length(a); j = length(b)
    while (i > 0 || j > 0 || c > 0) {
      d = c
      if (i > 0) d += substr(a, i, 1)
      if (j > 0) d += substr(b, j, 1)
      r = (d % 10) r; c = int(d / 10); i--; j--
    }
    return r
  }
  BEGIN {
    a = "0"; b = "1"; sum = "0"
    for (k = 1; k <= n; k++) { sum = add(sum, b); t = add(a, b); a = b; b = t }
    # Past 2^53 - 1 (Number.MAX_SAFE_INTEGER) as a string, as fibsum-reduce does; digit
    # strings of one length compare as numbers, as strings.
    if (length(sum) > 16 || (length(sum) == 16 && sum > "9007199254740991")) sum = "\"" sum "\""
    printf "{\"n\":%d,\"sum\":%s}", n, sum
  }' >"$MESHBOT_OUTPUT"
