# syntax=docker/dockerfile:1
# A small production image: build in one stage, run the compiled JavaScript as a non-root
# user in another with production dependencies only. The image runs on a supported Node LTS
# (24; 22 works too: --build-arg NODE_VERSION=22); the code and CI keep to Node 20, the oldest
# version package.json promises.
ARG NODE_VERSION=24
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
# Stack traces point at the TypeScript (dist/ ships its .js.map files), in both threads.
ENV NODE_OPTIONS=--enable-source-maps
# tini reaps and forwards signals. (Chart fonts come from the dejavu-fonts-ttf npm package,
# loaded by path: no system fonts needed.)
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY openapi ./openapi
USER node
EXPOSE 3000
# Ready = Redis answers (/readyz); /healthz means the same and stays for older monitors.
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# tini forwards SIGTERM to node (graceful stop: finish running work, then exit) and reaps zombies.
ENTRYPOINT ["/usr/bin/tini", "--"]
# node itself, not npm start: npm would sit between tini and node and swallow the signal. The flags
# are `npm start`'s (package.json): V8 grows the heap by 100% over what a collection left, not by up
# to 300%, and keeps each half of the young generation to 8 MB, so a worker stays under 200 MB
# (180 MB at 100,000 checks in 1,000 workspaces; README, bench:scale).
CMD ["node", "--heap-growing-percent=100", "--max-semi-space-size=8", "dist/main.js"]
