# syntax=docker/dockerfile:1
# Build stage: compile TypeScript and native modules (better-sqlite3) with the full toolchain.
FROM node:20.19.5-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Runtime stage: only what runs, as a non-root user.
FROM node:20.19.5-bookworm-slim
ENV NODE_ENV=production PORT=3000
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY cds-services ./cds-services
# Static files read at run time: the playground page (PLAYGROUND=on) and its scenarios.
COPY src/web ./src/web
COPY fixtures/scenarios ./fixtures/scenarios
COPY fixtures/requests ./fixtures/requests
COPY bin ./bin
RUN mkdir -p /app/data && chown -R node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "dist/src/server.js"]
