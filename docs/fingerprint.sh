#!/usr/bin/env bash
# Computes the fingerprint of CrowdBackup envelopes (format v2) with standard tools only: bash, coreutils
# (dd, od, sha256sum, wc, mktemp) and xxd (or bash's printf where xxd is missing).
#
#   docs/fingerprint.sh [--pieces] ENVELOPE...
#
# Prints "<64 hex digits>  <file>" per envelope, as sha256sum does. With --pieces it first prints one line per
# piece: "piece <index> offset <bytes> length <bytes> sha256 <hex>".
#
# Definition (docs/envelope-format.md, "Fingerprint"):
#   fingerprint = SHA-256( SHA-256(piece 0) || SHA-256(piece 1) || ... || SHA-256(piece n) )
#   piece 0 = prelude, header body and header MAC; piece i (i >= 1) = record i-1, its 4-byte length included.
#
# The script checks what a holder checks (no key needed), in the spec's order: magic, version, header
# bounds, suite, chunk size, declared length and the room it leaves for records, expiry, locator length,
# locator UTF-8 (strict: no overlong forms, surrogates or code points past U+10FFFF), control characters and
# edge whitespace,
# then every record's framing and the final record. It refuses (prints nothing, exit 1) whatever a holder
# refuses, so it never prints a fingerprint for something that is not a well-formed envelope. It is a
# reference, not a fast path: it starts a few processes per chunk (about a minute per GiB at 64 KiB chunks).
set -euo pipefail

readonly PRELUDE_AND_LENGTH_BYTES=10   # "CRWDBK" (6) + u16 version + u16 header-body length
readonly FIXED_BODY_BYTES=148           # suite, log2 chunk, u64 length, u64 expiry, 4 x 32 bytes, u16 locator length
readonly MAX_LOCATOR_BYTES=1024
readonly MAC_BYTES=32
readonly TAG_BYTES=16
readonly FINAL_RECORD_BYTES=532         # u32 length (4) + 512-byte metadata plaintext + 16-byte GCM tag
readonly FINAL_CIPHERTEXT_BYTES=528
readonly MIN_DATA_CIPHERTEXT_BYTES=18   # encoding byte + at least one body byte + tag
readonly MAX_ENVELOPE_BYTES=$((1 << 40))
readonly MAX_DATA_RECORDS=4294967295    # 2^32 - 1: counters 0..2^32-2 for data, the final chunk's fits in u32
readonly VERSION=2
readonly SUITE=1
readonly MAX_EXPIRY=253402300799        # 9999-12-31T23:59:59Z

die() {
  echo "fingerprint.sh: $*" >&2
  exit 1
}

# u_be FILE OFFSET COUNT: the COUNT bytes at OFFSET as an unsigned big-endian integer (COUNT <= 7, or 8 for
# values below 2^63).
u_be() {
  local hex
  hex=$(od -An -v -tx1 -j "$2" -N "$3" -- "$1" | tr -d ' \n')
  [[ ${#hex} -eq $((2 * $3)) ]] || die "$1: ends inside a $3-byte field at offset $2"
  echo $((16#$hex))
}

# piece_sha256 FILE OFFSET LENGTH: hex SHA-256 of LENGTH bytes at OFFSET.
piece_sha256() {
  local sum
  sum=$(dd if="$1" bs=65536 iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none | sha256sum)
  echo "${sum%% *}"
}

# check_locator FILE OFFSET LENGTH: strict UTF-8, no ISO control character (U+0000..U+001F, U+007F..U+009F)
# and no edge whitespace (the set of the spec's section 16) at either end, as header checks 12, 13 and 13a
# say; dies otherwise.
check_locator() {
  local -a b
  read -r -a b <<<"$(od -An -v -tu1 -j "$2" -N "$3" -- "$1" | tr -s ' \n' ' ')"
  local i=0 n=${#b[@]} c need cp min k first=-1
  (( n == $3 )) || die "$1: ends inside the locator"
  while (( i < n )); do
    c=${b[i]}
    if (( c < 0x80 )); then need=0; cp=$c; min=0
    elif (( c >= 0xc2 && c <= 0xdf )); then need=1; cp=$((c & 0x1f)); min=0x80
    elif (( c >= 0xe0 && c <= 0xef )); then need=2; cp=$((c & 0x0f)); min=0x800
    elif (( c >= 0xf0 && c <= 0xf4 )); then need=3; cp=$((c & 0x07)); min=0x10000
    else die "$1: locator byte $i (0x$(printf %02x "$c")) is not valid UTF-8"
    fi
    for (( k = 1; k <= need; k++ )); do
      (( i + k < n )) || die "$1: locator ends inside a UTF-8 sequence at byte $i"
      c=${b[i + k]}
      (( c >= 0x80 && c <= 0xbf )) || die "$1: locator byte $((i + k)) is not a UTF-8 continuation byte"
      cp=$(( (cp << 6) | (c & 0x3f) ))
    done
    (( cp >= min )) || die "$1: locator has an overlong UTF-8 form at byte $i"
    (( cp < 0xd800 || cp > 0xdfff )) || die "$1: locator encodes a surrogate at byte $i"
    (( cp <= 0x10ffff )) || die "$1: locator encodes a code point past U+10FFFF at byte $i"
    (( cp > 0x1f && (cp < 0x7f || cp > 0x9f) )) || die "$1: locator has a control character at byte $i"
    (( first >= 0 )) || first=$cp
    i=$((i + need + 1))
  done
  for cp in "$first" "$cp"; do
    if (( cp == 0x20 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 \
        || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000 )); then
      die "$1: locator starts or ends with whitespace (U+$(printf %04X "$cp"))"
    fi
  done
}

hex_to_binary() {
  if command -v xxd >/dev/null 2>&1; then
    xxd -r -p
  else
    local line
    while read -r line; do
      printf "$(sed 's/../\\x&/g' <<<"$line")"
    done
  fi
}

fingerprint() {
  local file=$1 show_pieces=$2
  [[ -f $file ]] || die "$file: not a regular file"
  local size magic version suite body_length chunk_log2 declared room expiry locator_length piece0 max_ct
  size=$(wc -c <"$file")
  (( size >= PRELUDE_AND_LENGTH_BYTES )) || die "$file: $size bytes, shorter than the prelude"

  magic=$(od -An -v -tx1 -N 6 -- "$file" | tr -d ' \n')
  [[ $magic == 43525744424b ]] || die "$file: bad magic $magic, expected 43525744424b (\"CRWDBK\"): not an envelope"
  version=$(u_be "$file" 6 2)
  (( version <= VERSION )) || die "$file: format version $version is too new, this script reads version $VERSION"
  (( version == VERSION )) || die "$file: format version $version is too old, this script reads version $VERSION"
  body_length=$(u_be "$file" 8 2)
  (( body_length > FIXED_BODY_BYTES && body_length <= FIXED_BODY_BYTES + MAX_LOCATOR_BYTES )) \
    || die "$file: header body length $body_length, expected $((FIXED_BODY_BYTES + 1))..$((FIXED_BODY_BYTES + MAX_LOCATOR_BYTES))"
  piece0=$((PRELUDE_AND_LENGTH_BYTES + body_length + MAC_BYTES))
  (( size >= piece0 )) || die "$file: $size bytes, the header alone is $piece0"

  suite=$(u_be "$file" 10 1)
  (( suite == SUITE )) || die "$file: suite $suite, format v$VERSION defines only $SUITE"
  chunk_log2=$(u_be "$file" 11 1)
  (( chunk_log2 >= 12 && chunk_log2 <= 22 )) || die "$file: chunk size exponent $chunk_log2, expected 12..22"
  max_ct=$((1 + (1 << chunk_log2) + TAG_BYTES))
  declared=$(u_be "$file" 12 8)
  (( declared >= piece0 + FINAL_RECORD_BYTES && declared <= MAX_ENVELOPE_BYTES )) \
    || die "$file: header declares $declared envelope bytes, out of bounds"
  room=$((declared - piece0 - FINAL_RECORD_BYTES))
  (( room == 0 || room >= 4 + MIN_DATA_CIPHERTEXT_BYTES )) \
    || die "$file: header declares $declared envelope bytes, leaving $room for data records (neither 0 nor at least $((4 + MIN_DATA_CIPHERTEXT_BYTES)))"
  expiry=$(u_be "$file" 20 8)
  (( expiry >= 0 && expiry <= MAX_EXPIRY )) || die "$file: expiry $expiry, after $MAX_EXPIRY (9999-12-31T23:59:59Z)"
  (( declared == size )) || die "$file: header declares $declared envelope bytes, the file has $size (truncated or trailing data)"
  locator_length=$(u_be "$file" $((PRELUDE_AND_LENGTH_BYTES + FIXED_BODY_BYTES - 2)) 2)
  (( locator_length == body_length - FIXED_BODY_BYTES )) \
    || die "$file: locator length $locator_length disagrees with header body length $body_length"
  check_locator "$file" $((PRELUDE_AND_LENGTH_BYTES + FIXED_BODY_BYTES)) "$locator_length"

  local digests index offset final_start ct digest
  digests=$(mktemp)
  # shellcheck disable=SC2064
  trap "rm -f -- '$digests'" RETURN

  digest=$(piece_sha256 "$file" 0 "$piece0")
  echo "$digest" >>"$digests"
  [[ $show_pieces == 1 ]] && echo "piece 0 offset 0 length $piece0 sha256 $digest"

  index=1
  offset=$piece0
  final_start=$((size - FINAL_RECORD_BYTES))
  while (( offset < final_start )); do
    ct=$(u_be "$file" "$offset" 4)
    (( ct >= MIN_DATA_CIPHERTEXT_BYTES && ct <= max_ct && offset + 4 + ct <= final_start )) \
      || die "$file: record $((index - 1)) at offset $offset declares $ct ciphertext bytes, not allowed there"
    (( index <= MAX_DATA_RECORDS )) || die "$file: more than $MAX_DATA_RECORDS data records"
    digest=$(piece_sha256 "$file" "$offset" $((4 + ct)))
    echo "$digest" >>"$digests"
    [[ $show_pieces == 1 ]] && echo "piece $index offset $offset length $((4 + ct)) sha256 $digest"
    offset=$((offset + 4 + ct))
    index=$((index + 1))
  done
  ct=$(u_be "$file" "$final_start" 4)
  (( ct == FINAL_CIPHERTEXT_BYTES )) \
    || die "$file: final record at offset $final_start declares $ct bytes, expected $FINAL_CIPHERTEXT_BYTES"
  digest=$(piece_sha256 "$file" "$final_start" "$FINAL_RECORD_BYTES")
  echo "$digest" >>"$digests"
  [[ $show_pieces == 1 ]] && echo "piece $index offset $final_start length $FINAL_RECORD_BYTES sha256 $digest"

  local fp
  fp=$(hex_to_binary <"$digests" | sha256sum)
  echo "${fp%% *}  $file"
}

show_pieces=0
if [[ ${1:-} == --pieces ]]; then
  show_pieces=1
  shift
fi
(( $# > 0 )) || die "usage: fingerprint.sh [--pieces] ENVELOPE..."
for f in "$@"; do
  fingerprint "$f" "$show_pieces"
done
