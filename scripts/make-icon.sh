#!/usr/bin/env bash
# Regenerates media/icon.png (128x128 marketplace icon) with ImageMagick: three tokens joined by attention arcs
# on a rounded indigo tile. The PNG is committed; run this only to change the design.
set -euo pipefail
cd "$(dirname "$0")/.."
# The first `convert` on PATH may not be ImageMagick's; pick the one that says so.
CONVERT=""
for c in $(which -a convert 2>/dev/null) /usr/bin/convert; do
  if "$c" -version 2>/dev/null | grep -q ImageMagick; then CONVERT="$c"; break; fi
done
[[ -n "$CONVERT" ]] || { echo "ImageMagick is required: apt-get install imagemagick" >&2; exit 1; }
"$CONVERT" -size 128x128 xc:none \
  \( -size 128x128 gradient:'#3b4fd8-#7b2fbf' \) \
  \( -size 128x128 xc:none -fill white -draw 'roundrectangle 0,0 127,127 24,24' \) \
  -delete 0 -compose DstIn -composite \
  -fill none -stroke 'rgba(255,255,255,0.95)' -strokewidth 7 -draw 'path "M 30,82 C 30,38 98,38 98,82"' \
  -stroke 'rgba(255,255,255,0.75)' -strokewidth 4 -draw 'path "M 30,82 C 30,58 64,58 64,82"' \
  -stroke 'rgba(255,255,255,0.55)' -strokewidth 3 -draw 'path "M 64,82 C 64,62 98,62 98,82"' \
  -stroke none -fill white \
  -draw 'roundrectangle 18,84 42,102 5,5' \
  -draw 'roundrectangle 52,84 76,102 5,5' \
  -draw 'roundrectangle 86,84 110,102 5,5' \
  -depth 8 -define png:exclude-chunks=date,time -strip \
  media/icon.png
echo "wrote media/icon.png ($(stat -c %s media/icon.png) bytes)"
