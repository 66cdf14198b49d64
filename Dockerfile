# One image for every process (web, worker, simulator, migrations); the
# compose file picks the command. Runs TypeScript from source with tsx.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json turbo.json tsconfig.base.json prisma.config.ts ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY apps ./apps
COPY packages ./packages
# Dev dependencies are needed at run time: tsx runs the sources, prisma generates the client.
RUN npm ci --include=dev --no-audit --no-fund && npm cache clean --force
USER node
