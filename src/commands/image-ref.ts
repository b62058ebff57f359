import { UserError } from '../core/errors.js';
import { show } from './show.js';

// Docker's reference grammar (distribution/reference): [domain[:port]/]path[:tag][@digest].
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|-+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::\\d+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const WITH_DOMAIN = new RegExp(
  `^(${DOMAIN})/(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);
const WITHOUT_DOMAIN = new RegExp(
  `^(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);

/** Accepts an image reference in Docker's grammar, such as `nginx:alpine` or `reg:5000/a/b:v1`. */
export function validateImageRef(s: string): string {
  // As docker does, the first component is a registry only if it looks like a host name.
  const firstSlash = s.indexOf('/');
  const first = firstSlash < 0 ? '' : s.slice(0, firstSlash);
  const hasDomain = first.includes('.') || first.includes(':') || first === 'localhost';
  const match = (hasDomain ? WITH_DOMAIN : WITHOUT_DOMAIN).exec(s);
  const nameLength = match ? (hasDomain ? `${match[1]}/${match[2]}` : (match[1] ?? '')).length : 0;

  if (!match || nameLength > 255) {
    const hint = s !== s.toLowerCase() ? ' (repository names are lowercase)' : '';
    throw new UserError(
      `${show(s)} is not a valid image reference${hint}; give e.g. nginx:alpine or image_1`,
      { value: s },
    );
  }
  return s;
}
