# Airbyte source image: Fullstory, Mindstamp and PersistIQ.
# Build: docker build --network host -t source-saas-trio:dev .
# One API only: docker build --network host --build-arg AIRBYTE_SOURCE_API=persistiq -t source-persistiq:dev .
FROM node:20-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# The platform runs containers as uid 1000 (rootless mode) and calls `sh -c "$AIRBYTE_ENTRYPOINT …"`.
RUN userdel --remove node 2>/dev/null; groupadd --gid 1000 airbyte \
 && useradd --uid 1000 --gid 1000 --create-home --shell /bin/sh airbyte \
 && mkdir -p /airbyte && chown airbyte:airbyte /airbyte
WORKDIR /airbyte
COPY --from=build --chown=airbyte:airbyte /build/package.json ./package.json
COPY --from=build --chown=airbyte:airbyte /build/node_modules ./node_modules
COPY --from=build --chown=airbyte:airbyte /build/dist ./dist
ARG AIRBYTE_SOURCE_API=
ENV AIRBYTE_SOURCE_API=${AIRBYTE_SOURCE_API}
ENV NODE_ENV=production
ENV AIRBYTE_ENTRYPOINT="node /airbyte/dist/main.js"
ENTRYPOINT ["node", "/airbyte/dist/main.js"]
LABEL io.airbyte.name=saas-trio/source-saas-trio
LABEL io.airbyte.version=0.1.0
USER 1000:1000
