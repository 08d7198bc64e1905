#!/usr/bin/env node
// Runs the CLI from its TypeScript sources through tsx, so a checkout works without a build step.
// The container image runs the compiled dist/src/app/main.js instead.
import { register } from 'tsx/esm/api';

register();
await import('../src/app/main.ts');
