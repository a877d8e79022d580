// Accessibility checks for the browser tests: axe-core run in the page against the WCAG 2.0
// and 2.1 A and AA rules. The app's pages have a strict CSP (no inline scripts), so axe's
// source goes in through the DevTools protocol (page.evaluate), which the CSP does not govern.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/**
 * Runs axe on the page (or only within the elements `include` selects; open shadow roots are
 * looked into) and throws when it finds violations, listing each rule with its impact, the
 * elements and what to fix.
 */
export async function checkAccessibility(page, label, include) {
  const loaded = await page.evaluate(() => typeof window.axe === 'object');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(
    async ([tags, selector]) => {
      const context = selector ? { include: [[selector]] } : document;
      const result = await window.axe.run(context, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.map((n) => ({ target: n.target.join(' >> '), summary: n.failureSummary })),
      }));
    },
    [WCAG_AA, include ?? null],
  );
  if (violations.length === 0) return;
  const lines = violations.flatMap((v) => [
    `  ${v.id} (${v.impact}): ${v.help}`,
    ...v.targets.map((t) => `    at ${t.target}: ${(t.summary ?? '').replace(/\s+/g, ' ').trim()}`),
  ]);
  throw new Error(`accessibility (${label}): ${violations.length} axe violation(s):\n${lines.join('\n')}`);
}
