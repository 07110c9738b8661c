# syntax=docker/dockerfile:1
# AppServer image: build with the dev dependencies, run with the production ones only.

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev

FROM node:20-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json /app/package-lock.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# ./data holds the embedded database when APPSERVER_DATABASE_URL is unset.
RUN mkdir -p /app/data && chown node:node /app /app/data
USER node
EXPOSE 3000
CMD ["node", "dist/main.js"]
