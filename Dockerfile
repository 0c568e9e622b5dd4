# Airbyte source image: Fullstory, Mindstamp and PersistIQ, on Node 24 LTS (Node 20 is past its end
# of life; 24 measured faster than 26 on this connector's benchmark, docs/development.md).
# Tags: saas-trio/source-<name>:<version>, <name> being saas-trio or the one API built in.
#   docker build -t saas-trio/source-saas-trio:0.1.0 .
#   docker build --build-arg AIRBYTE_SOURCE_API=persistiq -t saas-trio/source-persistiq:0.1.0 .
# (Add --network host where the default bridge has no route to the npm registry.)
FROM node:24-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# Only what runs: compiled JavaScript and production dependencies, without their tests, docs,
# type definitions, sources or source maps.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund \
 && find node_modules \( -type d \( -name test -o -name tests -o -name __tests__ -o -name docs -o -name example -o -name examples \) -prune \) -exec rm -rf {} + \
 && find node_modules dist -type f \( -name '*.map' -o -name '*.ts' -o -name '*.md' -o -name '*.markdown' -o -name '*.tsbuildinfo' \) -delete

FROM node:24-bookworm-slim
# The platform runs containers as uid 1000 (rootless mode) and calls `sh -c "$AIRBYTE_ENTRYPOINT …"`.
# The code belongs to root and is read-only for that user; /airbyte itself stays writable (the
# platform and CAT put the config, catalog and state files there).
RUN userdel --remove node 2>/dev/null; groupadd --gid 1000 airbyte \
 && useradd --uid 1000 --gid 1000 --create-home --shell /bin/sh airbyte \
 && mkdir -p /airbyte && chown airbyte:airbyte /airbyte
WORKDIR /airbyte
COPY --from=build /build/package.json ./package.json
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist ./dist
ARG AIRBYTE_SOURCE_API=
ARG VERSION=0.1.0
ENV AIRBYTE_SOURCE_API=${AIRBYTE_SOURCE_API}
ENV NODE_ENV=production
# V8's code cache for the connector and axios: each command is a fresh container, which would
# otherwise compile them again (src/compile-cache.ts). Node keeps one cache per uid: it is built
# below by the user that runs.
ENV NODE_COMPILE_CACHE=/var/cache/source-saas-trio
RUN mkdir -p /var/cache/source-saas-trio && chown airbyte:airbyte /var/cache/source-saas-trio
ENV AIRBYTE_ENTRYPOINT="node /airbyte/dist/main.js"
ENTRYPOINT ["node", "/airbyte/dist/main.js"]
# One image per API is a connector of its own: its name follows the API built in.
LABEL io.airbyte.name=saas-trio/source-${AIRBYTE_SOURCE_API:-saas-trio}
LABEL io.airbyte.version=${VERSION}
LABEL org.opencontainers.image.title=source-${AIRBYTE_SOURCE_API:-saas-trio} \
      org.opencontainers.image.description="Airbyte source connector for Fullstory, Mindstamp and PersistIQ" \
      org.opencontainers.image.version=${VERSION} \
      org.opencontainers.image.licenses=MIT \
      org.opencontainers.image.source=https://github.com/source-saas-trio/source-saas-trio \
      org.opencontainers.image.documentation=https://github.com/source-saas-trio/source-saas-trio/tree/main/docs \
      org.opencontainers.image.vendor=source-saas-trio
USER 1000:1000
RUN node /airbyte/dist/main.js spec > /dev/null && node -e "require('/airbyte/dist/http/client')"
