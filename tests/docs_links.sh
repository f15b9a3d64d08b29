#!/usr/bin/env bash
# Every link of README.md and docs/*.md to a file of the repository, and every docs/*.md that a header, source or
# example names, exists. Usage: docs_links.sh REPO_ROOT
set -euo pipefail
root=$1
cd "$root"
fail=0
for md in README.md docs/*.md benchmarks/README.md; do
  dir=$(dirname "$md")
  # Markdown links and images: ](target), without a scheme or an anchor-only target.
  while IFS= read -r target; do
    target=${target%%#*}
    [[ -z $target || $target == http* || $target == mailto:* ]] && continue
    [[ -e $dir/$target ]] || { echo "FAIL: $md links to $target, which does not exist"; fail=1; }
  done < <(grep -o '](\([^)]*\))' "$md" | sed 's/^](\(.*\))$/\1/')
done
# docs/NAME.md named in code comments and in the docs' text.
while IFS= read -r ref; do
  [[ -e $ref ]] || { echo "FAIL: $ref is named but does not exist"; fail=1; }
done < <(grep -rhoE 'docs/[a-z_]+\.md' include src examples README.md docs | sort -u)
((fail == 0)) && echo "ok: every link and docs/ reference resolves"
exit $fail
