#!/usr/bin/env bash
# Copy the browser assets the pages use from node_modules into static/vendor
# (served by Django/whitenoise; nothing is ever loaded from a CDN).
set -euo pipefail
cd "$(dirname "$0")/.."
nm=node_modules
out=static/vendor
rm -rf "$out"
mkdir -p "$out"/{bootstrap,bootstrap-icons/fonts,htmx,tom-select,chart.js,sortablejs,vazirmatn}
cp "$nm"/bootstrap/dist/css/bootstrap.min.css "$nm"/bootstrap/dist/css/bootstrap.rtl.min.css "$out"/bootstrap/
cp "$nm"/bootstrap/dist/js/bootstrap.bundle.min.js "$out"/bootstrap/
cp "$nm"/bootstrap-icons/font/bootstrap-icons.min.css "$out"/bootstrap-icons/
cp "$nm"/bootstrap-icons/font/fonts/bootstrap-icons.woff2 "$nm"/bootstrap-icons/font/fonts/bootstrap-icons.woff "$out"/bootstrap-icons/fonts/
cp "$nm"/htmx.org/dist/htmx.min.js "$out"/htmx/
cp "$nm"/tom-select/dist/css/tom-select.bootstrap5.min.css "$nm"/tom-select/dist/js/tom-select.complete.min.js "$out"/tom-select/
cp "$nm"/chart.js/dist/chart.umd.min.js "$out"/chart.js/ 2>/dev/null || cp "$nm"/chart.js/dist/chart.umd.js "$out"/chart.js/chart.umd.min.js
cp "$nm"/sortablejs/Sortable.min.js "$out"/sortablejs/
# The quote and invoice PDFs (WeasyPrint) embed Vazirmatn from here: Persian and Latin in one face, no download.
cp "$nm"/vazirmatn/fonts/ttf/Vazirmatn-Regular.ttf "$nm"/vazirmatn/fonts/ttf/Vazirmatn-Bold.ttf "$nm"/vazirmatn/OFL.txt "$out"/vazirmatn/
# Source maps are referenced by the minified files but not shipped: strip the comments
# so browsers don't ask for files that aren't there.
find "$out" -type f \( -name '*.js' -o -name '*.css' \) -print0 | xargs -0 sed -i -e 's#/\*\# sourceMappingURL=.*\*/##' -e 's#//\# sourceMappingURL=.*$##'
echo "vendor assets copied to $out"
