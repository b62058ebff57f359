# Deckhand's image: one image for the worker and the bot (`deckhand worker`, `deckhand bot`).
# The sources run through tsx (a runtime dependency), so there is no compile step to keep in sync.
#
# NODE_IMAGE is any Debian-based Node 20 image that has a `node` user (uid 1000). Without a
# registry, make one from the host's Node: sh src/ops/node-base-image.sh deckhand-node:20
# and build with --build-arg NODE_IMAGE=deckhand-node:20.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are skipped: the only native one (ssh2's optional cpu-features) needs a compiler
# and is not used; esbuild (for tsx) ships its binary as a plain optional dependency.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HTTP_PORT=9464
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY myimages ./myimages
# Code stays owned by root and read-only to the process; the worker reaches Docker through the
# socket's group, which compose adds at run time (group_add: DOCKER_GID).
USER node
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "src/ops/healthcheck.mjs"]
ENTRYPOINT ["node", "src/bin.mjs"]
CMD ["worker"]
