import { describe, expect, it } from 'vitest';

import { validateImageRef } from '../../src/commands/image-ref.js';
import { refusal } from './refusal.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('image references', () => {
  it.each([
    'image_1',
    'nginx',
    'nginx:alpine',
    'nginx:1.25.3-alpine',
    'debian:bookworm-slim',
    'library/nginx',
    'deckhand-proxy:latest',
    'a__b',
    'a---b',
    'localhost/app',
    'localhost:5000/team/app:v1',
    'registry.example.com/team/app',
    'Registry.Example.com/app:V1',
    '[::1]:5000/app',
    `nginx@${DIGEST}`,
    `nginx:alpine@${DIGEST}`,
  ])('accepts %j', (ref) => {
    expect(validateImageRef(ref)).toBe(ref);
  });

  it.each([
    ['', 'not a valid image reference'],
    ['-x', 'not a valid image reference'],
    ['--privileged', 'not a valid image reference'],
    ['$(id)', 'not a valid image reference'],
    ['image_1;id', 'not a valid image reference'],
    ['nginx alpine', 'not a valid image reference'],
    ['Nginx', 'lowercase'],
    ['team/App', 'lowercase'],
    ['nginx:', 'not a valid image reference'],
    ['nginx:-x', 'not a valid image reference'],
    [`nginx:${'t'.repeat(129)}`, 'not a valid image reference'],
    ['nginx@sha256:abc', 'not a valid image reference'],
    ['_nginx', 'not a valid image reference'],
    ['nginx_', 'not a valid image reference'],
    ['a//b', 'not a valid image reference'],
    ['../x', 'not a valid image reference'],
    [`${'a'.repeat(256)}`, 'not a valid image reference'],
  ])('refuses %j (%s)', (ref, why) => {
    expect(refusal(() => validateImageRef(ref)).message).toContain(why);
  });
});
