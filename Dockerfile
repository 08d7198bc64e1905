# syntax=docker/dockerfile:1
# Switchyard image: the `switchyard` CLI (router node, vendor simulator, HTTP gateway).
#   docker build -t switchyard .
# The entrypoint is the CLI; the subcommand and its flags are the container command, e.g.
#   docker run --rm -v "$PWD/examples:/config:ro" -e NATS_URL=nats://host.docker.internal:4222 \
#     -e ANTHROPIC_API_KEY -e OPENAI_API_KEY switchyard start --config /config/seed.config.yaml --env us_prod
#   (start needs --env, and the credentials the config names: here only two of them are passed,
#   so the other vendor-regions show unusable in `switchyard status`)
# See docker-compose.yml for a three-server NATS cluster with routers, simulator and gateway.

# ---- build: compile TypeScript to dist/ ------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY actors ./actors
COPY machines ./machines
COPY bin ./bin
COPY examples ./examples
RUN npm run build

# ---- runtime: production dependencies and compiled output only -------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY examples ./examples

USER node

ENTRYPOINT ["node", "dist/src/app/main.js"]
