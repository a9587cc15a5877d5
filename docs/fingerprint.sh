#!/usr/bin/env bash
# Computes the fingerprint of CrowdBackup envelopes (format v1) with standard tools only: bash, coreutils
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
# The script walks the framing exactly as a holder does (no key needed) and refuses a file whose framing
# is broken, so it never prints a fingerprint for something that is not a well-framed envelope. It is a
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
  local size magic version body_length chunk_log2 declared locator_length piece0 max_ct
  size=$(wc -c <"$file")
  (( size >= PRELUDE_AND_LENGTH_BYTES )) || die "$file: $size bytes, shorter than the prelude"

  magic=$(od -An -v -tx1 -N 6 -- "$file" | tr -d ' \n')
  [[ $magic == 43525744424b ]] || die "$file: bad magic $magic, expected 43525744424b (\"CRWDBK\"): not an envelope"
  version=$(u_be "$file" 6 2)
  (( version == 1 )) || die "$file: format version $version, this script reads version 1"
  body_length=$(u_be "$file" 8 2)
  (( body_length > FIXED_BODY_BYTES && body_length <= FIXED_BODY_BYTES + MAX_LOCATOR_BYTES )) \
    || die "$file: header body length $body_length, expected $((FIXED_BODY_BYTES + 1))..$((FIXED_BODY_BYTES + MAX_LOCATOR_BYTES))"
  piece0=$((PRELUDE_AND_LENGTH_BYTES + body_length + MAC_BYTES))
  (( size >= piece0 )) || die "$file: $size bytes, the header alone is $piece0"

  chunk_log2=$(u_be "$file" 11 1)
  (( chunk_log2 >= 12 && chunk_log2 <= 22 )) || die "$file: chunk size exponent $chunk_log2, expected 12..22"
  max_ct=$((1 + (1 << chunk_log2) + TAG_BYTES))
  declared=$(u_be "$file" 12 8)
  (( declared >= piece0 + FINAL_RECORD_BYTES && declared <= MAX_ENVELOPE_BYTES )) \
    || die "$file: header declares $declared envelope bytes, out of bounds"
  (( declared == size )) || die "$file: header declares $declared envelope bytes, the file has $size (truncated or trailing data)"
  locator_length=$(u_be "$file" $((PRELUDE_AND_LENGTH_BYTES + FIXED_BODY_BYTES - 2)) 2)
  (( locator_length == body_length - FIXED_BODY_BYTES )) \
    || die "$file: locator length $locator_length disagrees with header body length $body_length"

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
