# The webhook server image: `codebuild-run serve` as a non-root user, state in /data.
# Build:  docker build -t codebuild-run .
# Run:    docker run -p 8080:8080 -v cbr-data:/data -v $PWD/codebuild-run.yml:/config.yml:ro \
#           -e AWS_REGION=eu-west-1 codebuild-run

FROM node:22-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles its native module here; the runtime stage needs no compiler.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY server ./server
COPY action ./action
COPY cli ./cli
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
# git: reading buildspec files from repositories, and the local CodeBuild's git sources.
RUN apt-get update \
  && apt-get install -y --no-install-recommends git ca-certificates tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
# serve reads its config from here unless --config says otherwise: mount the file there.
ENV CODEBUILD_RUN_CONFIG=/config.yml
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/lib ./lib
COPY bin ./bin
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# tini forwards SIGTERM so the server shuts down gracefully.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/codebuild-run.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--data-dir", "/data"]
