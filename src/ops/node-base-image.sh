#!/bin/sh
# Makes a Node base image for Deckhand's Dockerfile from this host's own Node installation, for
# machines where no registry can give node:20-bookworm-slim (CI here). Usage:
#   sh src/ops/node-base-image.sh [TAG] [FROM]     defaults: deckhand-node:20 debian:bookworm-slim
# Then: docker build --build-arg NODE_IMAGE=TAG .   (or NODE_IMAGE=TAG in .env for compose)
set -eu

tag=${1:-deckhand-node:20}
from=${2:-debian:bookworm-slim}

node_bin=$(command -v node) || { echo "node is not on PATH" >&2; exit 1; }
node_bin=$(readlink -f "$node_bin")
version=$("$node_bin" --version)
case "$version" in
  v20.*) ;;
  *) echo "this host's node is $version; Deckhand's image is made for Node 20" >&2; exit 1 ;;
esac

# npm lives next to node: <prefix>/bin/node and <prefix>/lib/node_modules/npm.
npm_dir=$(dirname "$(dirname "$node_bin")")/lib/node_modules/npm
[ -f "$npm_dir/bin/npm-cli.js" ] || { echo "npm not found at $npm_dir" >&2; exit 1; }

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp "$node_bin" "$context/node"
cp -R "$npm_dir" "$context/npm"

# The image trusts what this host trusts, so npm ci inside a build works behind a TLS-inspecting
# proxy whose CA only the host knows (NODE_EXTRA_CA_CERTS adds to Node's own list, never replaces).
bundle=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
if [ -f "$bundle" ]; then cp "$bundle" "$context/host-ca.crt"; else : > "$context/host-ca.crt"; fi

# The same layout and user as the official node images: node and npm in /usr/local, user node 1000.
cat > "$context/Dockerfile" <<DOCKERFILE
FROM $from
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY host-ca.crt /etc/ssl/certs/ca-certificates.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/sh --create-home node \\
 && node --version && npm --version
LABEL deckhand.node-base="$version"
CMD ["node"]
DOCKERFILE

docker build --quiet --force-rm --tag "$tag" "$context" >/dev/null
echo "made $tag (Node $version on $from)"
