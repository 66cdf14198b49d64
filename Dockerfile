# One image for every process (web, worker, simulator, migrations); the
# compose file picks the command. The web app and the worker run their
# production bundles (apps/*/dist/main.mjs); migrations and the simulator (a
# development tool) run from source with tsx.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json turbo.json tsconfig.base.json prisma.config.ts ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY apps ./apps
COPY packages ./packages
# Dev dependencies are needed: prisma generates the client, esbuild bundles,
# tsx runs migrations and the simulator.
RUN npm ci --include=dev --no-audit --no-fund \
 && npm run build --workspace @flipfix/worker --workspace @flipfix/web \
 && npm cache clean --force
USER node
