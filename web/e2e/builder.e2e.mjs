// Browser test of the web app against a real `baton serve`: sign in, build a flow from a new
// (trigger-only) canvas with + Add Node and by dragging a port to empty canvas, watch validation
// problems appear and disappear, publish, and check the published version through the API.
//
// Runs Debian's chromium (/usr/bin/chromium, or CHROMIUM_PATH) through playwright-core; never
// downloads a browser. Without chromium it skips, except in CI (CI=true), where it fails.
// Uses target/{debug,release}/baton (or $CARGO_TARGET_DIR/…, or BATON_BIN), whichever is newer.
//
//   node e2e/builder.e2e.mjs        (from web/, after `npm run build` and `cargo build -p baton`)

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { check, fail, launch, repo, screenshotAll, screenshots, shutDown } from './lib.mjs';

async function main() {
  const run = await launch('e2e');
  if (!run) return;
  const { server, browser } = run;
  const problems = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });

    // ---- sign in --------------------------------------------------------------------------
    await page.goto(`${server.url}/`);
    await page.waitForURL(/\/app\/login$/);
    await page.getByLabel('Email').fill(server.owner.email);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'wrong email or password' }).waitFor();
    await page.getByLabel('Password').fill(server.owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Flows' }).waitFor();
    // The wrong password's 401 is logged by the browser; anything after this counts.
    problems.length = 0;
    // The demo flow is listed, live, with its validation status.
    const demoRow = page.locator('tbody tr').first();
    await demoRow.getByText('Live').waitFor();
    await page.locator('.status').first().waitFor();
    await page.screenshot({ path: join(screenshots, 'flows-list.png') });

    // ---- a new flow: just a trigger -------------------------------------------------------
    await page.getByRole('button', { name: '+ New flow' }).click();
    await page.getByLabel('New flow name').fill('Order help (e2e)');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(/\/app\/flows\/[^/]+$/);
    const flowId = decodeURIComponent(page.url().split('/').pop());
    const node = (id) => page.locator(`.react-flow__node[data-id="${id}"]`);
    const panel = page.getByTestId('property-panel');
    const problem = (code, nodeId) => page.locator(`[data-testid=problems] .problem[data-code="${code}"][data-node="${nodeId}"]`);
    const saved = () => page.locator('[data-testid=save-state][data-state=saved]').waitFor();
    const addNode = async (label) => {
      await page.getByRole('button', { name: '+ Add Node' }).click();
      await page.getByTestId('add-node-menu').getByRole('menuitem', { name: new RegExp(`^${label}`) }).click();
    };

    await node('start').waitFor();
    await node('start').click();

    // Trigger → Message. An empty message is a problem until it says something.
    await addNode('Message');
    await node('message_1').waitFor();
    await problem('empty_message', 'message_1').waitFor();
    check(await node('message_1').getByTestId('node-marker').isVisible(), 'the new message shows a problem marker');
    await panel.locator('textarea[name=text]').fill('Hi! I can help with your order.');
    await saved();
    await problem('empty_message', 'message_1').waitFor({ state: 'detached' });

    // Message → Collect Input (email).
    await addNode('Collect Input');
    await node('ask_1').waitFor();
    await panel.locator('textarea[name=text]').fill("What's the email on your order?");
    await panel.locator('input[name=variable]').fill('email');
    await panel.locator('select[name=input]').selectOption('email');
    // A question offers the workspace's escapes; selected, it shows their ports to wire.
    await panel.getByRole('group', { name: 'Escapes' }).getByLabel('Offer the workspace’s escapes').waitFor();
    check(await panel.getByLabel('Offer the workspace’s escapes').isChecked(), 'the workspace’s escapes by default');
    await node('ask_1').locator('.port[data-port="escape_human"]').waitFor();

    // Collect Input → Human Handover (from its first free port: next).
    await addNode('Human Handover');
    await node('handover_1').waitFor();
    await saved();
    await page.getByRole('button', { name: 'Fit', exact: true }).click();
    await page.waitForTimeout(400);

    // The hand-over's handed_back port, dragged to empty canvas, opens the menu; a Message
    // added there is connected to it.
    const handle = node('handover_1').locator('.port[data-port="handed_back"] .react-flow__handle');
    const hb = await handle.boundingBox();
    check(hb, 'the handed_back handle is on screen');
    const canvas = await page.locator('.react-flow__pane').boundingBox();
    const drop = { x: Math.min(hb.x + 260, canvas.x + canvas.width - 40), y: Math.min(hb.y + 140, canvas.y + canvas.height - 40) };
    await page.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2);
    await page.mouse.down();
    await page.mouse.move(drop.x, drop.y, { steps: 12 });
    await page.mouse.up();
    const menu = page.getByTestId('add-node-menu');
    // Ports are named in words, as findings name their paths.
    await menu.getByText('handover_1 · handed back').waitFor();
    await menu.getByRole('menuitem', { name: /^Message/ }).click();
    await node('message_2').waitFor();
    // The variable picker inserts a variable where the caret is.
    const text2 = panel.locator('textarea[name=text]');
    await text2.fill('Thanks for waiting! We have  on file. Anything else I can do?');
    await text2.press('Control+Home');
    for (let i = 0; i < 28; i++) await text2.press('ArrowRight');
    await panel.getByRole('button', { name: 'Insert a variable into Text' }).click();
    await panel.getByRole('option', { name: /^email/ }).click();
    check((await text2.inputValue()) === 'Thanks for waiting! We have {{ email }} on file. Anything else I can do?', `the picked variable is inserted: ${await text2.inputValue()}`);
    await saved();
    // Its `next` leads nowhere yet: a dead end, until an End follows. Publishing is refused.
    await problem('dead_end', 'message_2').waitFor();
    await page.getByRole('button', { name: 'Publish…' }).click();
    await page.getByTestId('publish-confirm').click();
    const refusal = page.locator('[data-testid=publish-error][data-code=flow_invalid]');
    await refusal.waitFor();
    await refusal.getByText('dead_end').waitFor();
    await page.screenshot({ path: join(screenshots, 'publish-refused.png') });
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    // The refusal's 422 is logged by the browser; it is expected here.
    for (let i = problems.length - 1; i >= 0; i--) if (/status of 422/.test(problems[i])) problems.splice(i, 1);
    await node('message_2').click();
    await addNode('End');
    await node('end_1').waitFor();
    await saved();
    await problem('dead_end', 'message_2').waitFor({ state: 'detached' });

    // Undo removes the End (the dead end is back), redo restores it.
    await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
    await page.keyboard.press('Control+z');
    await node('end_1').waitFor({ state: 'detached' });
    await saved();
    await problem('dead_end', 'message_2').waitFor();
    await page.keyboard.press('Control+Shift+z');
    await node('end_1').waitFor();
    await saved();
    await problem('dead_end', 'message_2').waitFor({ state: 'detached' });
    // Undo then Redo within the autosave delay: back at the saved document, nothing is left
    // unsaved (it used to say "Unsaved changes" for good).
    await page.keyboard.press('Control+z');
    await node('end_1').waitFor({ state: 'detached' });
    await page.locator('[data-testid=save-state][data-state=pending]').waitFor();
    await page.keyboard.press('Control+Shift+z');
    await node('end_1').waitFor();
    await page.locator('[data-testid=save-state][data-state=saved]').waitFor({ timeout: 3000 });

    // A node dragged from the palette; copy and paste; delete with the keyboard.
    await page.locator('.palette-item[data-type="end"]').dragTo(page.locator('.react-flow__pane'), { targetPosition: { x: 120, y: 80 } });
    await node('end_2').waitFor();
    await problem('unreachable_node', 'end_2').waitFor();
    await page.keyboard.press('Delete');
    await node('end_2').waitFor({ state: 'detached' });
    await node('message_2').click();
    await page.keyboard.press('Control+c');
    await page.keyboard.press('Control+v');
    await node('message_3').waitFor();
    await page.keyboard.press('Delete');
    await node('message_3').waitFor({ state: 'detached' });
    await saved();
    await problem('unreachable_node', 'end_2').waitFor({ state: 'detached' });

    // An edge dragged off its target (by its end, just left of the target's handle) is deleted;
    // undo brings it back.
    const edge = page.locator('.react-flow__edge[data-id="message_2:next->end_1"]');
    await edge.waitFor();
    // Fit keeps cards readable, so this flow is wider than the canvas: zoomed out, it is all on
    // screen.
    await page.getByRole('button', { name: 'Fit', exact: true }).click();
    await page.waitForTimeout(400);
    for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Zoom Out' }).click();
    await page.waitForTimeout(400);
    const inHandle = await node('end_1').locator('.handle-in').boundingBox();
    await page.mouse.move(inHandle.x - 3, inHandle.y + inHandle.height / 2);
    await page.mouse.down();
    await page.mouse.move(inHandle.x - 120, inHandle.y + 140, { steps: 10 });
    await page.mouse.up();
    await edge.waitFor({ state: 'detached' });
    await saved();
    await problem('dead_end', 'message_2').waitFor();
    await page.keyboard.press('Control+z');
    await edge.waitFor();
    await saved();
    await problem('dead_end', 'message_2').waitFor({ state: 'detached' });

    // No errors left (warnings, e.g. unwired hand-over ports, do not block).
    await page.getByTestId('problems-toggle').filter({ hasText: /^0 errors/ }).waitFor();
    await page.getByRole('button', { name: 'Auto-layout' }).click();
    await saved();
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(screenshots, 'builder.png') });
    // Problems name paths in words, never by port ids.
    const problemTexts = await page.locator('[data-testid=problems] .problem').allInnerTexts();
    check(problemTexts.length > 0 && problemTexts.every((t) => !/handed_back|off_hours|no_agent|no_match|\(invalid\)|\(cancelled\)|\(timeout\)/.test(t.replace(/port_unwired|handover_silent/g, ''))), `problems in words: ${problemTexts.join(' | ')}`);
    // A problem, clicked, focuses its node.
    await problem('port_unwired', 'handover_1').first().click();
    await page.locator('.react-flow__node.selected[data-id="handover_1"]').waitFor();
    await page.getByTestId('property-panel').and(page.locator('[data-node-id="handover_1"]')).waitFor();
    await page.waitForTimeout(400);
    await page.screenshot({ path: join(screenshots, 'builder-focused.png') });

    // A warning accepted as intended: kept in the draft, listed apart, not counted; then undone.
    const toggle = page.getByTestId('problems-toggle');
    const openWarnings = Number((await toggle.innerText()).match(/(\d+) warnings?/)?.[1]);
    const cancelledRow = page.locator('[data-testid=problems] .problem-row', { has: page.locator('.problem[data-code="port_unwired"][data-node="handover_1"][data-port="cancelled"]') });
    await cancelledRow.getByRole('button', { name: /^Accept/ }).click();
    const acceptedList = page.getByTestId('problems-accepted');
    await acceptedList.locator('.problem[data-port="cancelled"]').waitFor();
    await toggle.filter({ hasText: `· ${openWarnings - 1} warning` }).waitFor();
    await saved();
    await page.screenshot({ path: join(screenshots, 'builder-accepted.png') });
    const withAccepted = await page.evaluate((p) => fetch(p).then((r) => r.json()), `/api/v1/flows/${encodeURIComponent(flowId)}`);
    check(isDeepStrictEqual(withAccepted.draft.accepted, [{ code: 'port_unwired', node: 'handover_1', port: 'cancelled' }]), `the draft keeps the accepted warning: ${JSON.stringify(withAccepted.draft.accepted)}`);
    check(withAccepted.diagnostics.some((d) => d.port === 'cancelled' && d.accepted === true), 'the server reports the warning as accepted');
    await acceptedList.getByRole('button', { name: /^Undo accept/ }).click();
    await acceptedList.waitFor({ state: 'detached' });
    await toggle.filter({ hasText: `· ${openWarnings} warning` }).waitFor();
    await saved();

    // ---- publish --------------------------------------------------------------------------
    await page.getByRole('button', { name: 'Publish…' }).click();
    await page.getByTestId('publish-changes').getByText(/^First version: \d+ nodes/).waitFor();
    await page.getByRole('dialog').locator('textarea[name=note]').fill('First version: email, then a person');
    // The first publish of a flow that was never live asks to go live, ticked.
    check(await page.getByRole('dialog').getByLabel('Go live now?').isChecked(), 'the first publish goes live unless unticked');
    await page.getByTestId('publish-confirm').click();
    await page.getByTestId('publish-result').getByText('Published version 1.').waitFor();
    await page.getByTestId('publish-live').waitFor();
    await page.screenshot({ path: join(screenshots, 'published.png') });
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByText('Live · v1').waitFor();

    // ---- the published version, through the API --------------------------------------------
    const api = (path) => page.evaluate((p) => fetch(p).then((r) => r.json()), path);
    // A list answers a page ({items, total, next_cursor}); older servers answered the bare list.
    const items = (page) => (Array.isArray(page) ? page : page.items);
    const versions = items(await api(`/api/v1/flows/${encodeURIComponent(flowId)}/versions`));
    check(Array.isArray(versions) && versions.length === 1 && versions[0].version === 1, `one version: ${JSON.stringify(versions)}`);
    check(versions[0].note === 'First version: email, then a person', 'the note is kept');
    const v1 = await api(`/api/v1/flows/${encodeURIComponent(flowId)}/versions/1`);
    const doc = v1.document;
    check(doc.format === 1 && doc.name === 'Order help (e2e)', `format 1 and the name: ${JSON.stringify(doc).slice(0, 200)}`);
    const byId = Object.fromEntries(doc.nodes.map((n) => [n.id, n]));
    const types = Object.fromEntries(doc.nodes.map((n) => [n.id, n.type]));
    check(
      JSON.stringify(types) ===
        JSON.stringify({ start: 'trigger', message_1: 'message', ask_1: 'collect_input', handover_1: 'handover', message_2: 'message', end_1: 'end' }),
      `the nodes: ${JSON.stringify(types)}`,
    );
    check(byId.ask_1.variable === 'email' && byId.ask_1.input === 'email', 'the collect node asks for an email');
    check(byId.message_1.text === 'Hi! I can help with your order.', 'the first message');
    check(byId.message_2.text.includes('{{ email }}'), 'the picked variable is saved');
    check(doc.nodes.every((n) => n.position && typeof n.position.x === 'number' && typeof n.position.y === 'number'), 'positions are saved');
    const edges = doc.edges.map((e) => `${e.from}.${e.port}->${e.to}`).sort();
    const expected = [
      'start.next->message_1',
      'message_1.next->ask_1',
      'ask_1.next->handover_1',
      'handover_1.handed_back->message_2',
      'message_2.next->end_1',
    ].sort();
    check(JSON.stringify(edges) === JSON.stringify(expected), `the edges: ${JSON.stringify(edges)}`);
    const allowed = new Set(['format', 'name', 'description', 'variables', 'nodes', 'edges', 'tests']);
    check(Object.keys(doc).every((k) => allowed.has(k)), `only format 1 fields: ${Object.keys(doc)}`);

    // ---- live switch, versions, the list ---------------------------------------------------
    await page.getByRole('switch', { name: 'Live' }).click({ force: true });
    await page.getByText('Off · v1').waitFor();
    await page.getByRole('switch', { name: 'Live' }).click({ force: true });
    await page.getByText('Live · v1').waitFor();
    const detail = await api(`/api/v1/flows/${encodeURIComponent(flowId)}`);
    check(detail.live === true && detail.live_version === 1, 'the flow is live on version 1');
    // A second version, then a rollback to the first: a third version and the first's draft.
    await page.getByRole('button', { name: 'Fit', exact: true }).click();
    await page.waitForTimeout(400);
    await node('message_1').click();
    await panel.locator('textarea[name=text]').fill('Hello there!');
    await saved();
    await page.getByRole('button', { name: 'Publish…' }).click();
    // The dialog says what the new version changes: only message_1's text.
    const changes = page.getByTestId('publish-changes');
    await changes.getByText('Changes since version 1').waitFor();
    check((await page.getByRole('dialog').getByLabel('Go live now?').count()) === 0, 'a live flow is not asked to go live');
    await changes.locator('li', { hasText: 'message_1' }).filter({ hasText: 'text' }).waitFor();
    check((await changes.locator('li', { hasText: /Added|Removed|Connected|Disconnected/ }).count()) === 0, `nothing added or removed: ${await changes.innerText()}`);
    await page.getByTestId('publish-confirm').click();
    await page.getByTestId('publish-result').getByText('Published version 2.').waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'Versions' }).click();
    const versionList = page.getByTestId('versions');
    await versionList.getByText('Version 2').waitFor();
    await versionList.locator('li', { hasText: 'Version 1' }).getByRole('button', { name: 'Roll back to this' }).click();
    await versionList.getByRole('button', { name: 'Roll back', exact: true }).click();
    await page.getByText('Rolled back: version 3 publishes version 1').waitFor();
    await node('message_1').getByText('Hi! I can help with your order.').waitFor();
    const after = items(await api(`/api/v1/flows/${encodeURIComponent(flowId)}/versions`));
    check(after.map((v) => v.version).join(',') === '3,2,1', `versions after the rollback: ${JSON.stringify(after)}`);
    await page.getByRole('button', { name: '← Flows' }).click();
    await page.getByRole('link', { name: 'Order help (e2e)' }).waitFor();
    await page.locator('tr', { hasText: 'Order help (e2e)' }).getByText('version 3').waitFor();

    // Import an example flow; open it; its nodes are all on the canvas.
    await page.getByTestId('import-file').setInputFiles(join(repo, 'examples', 'billing.flow.json'));
    await page.getByRole('status').filter({ hasText: /^Imported/ }).waitFor();
    const billing = JSON.parse(readFileSync(join(repo, 'examples', 'billing.flow.json'), 'utf8'));
    await page.getByRole('link', { name: billing.name }).click();
    await page.locator('.react-flow__node').nth(billing.nodes.length - 1).waitFor();
    check((await page.locator('.react-flow__node').count()) === billing.nodes.length, 'every imported node is on the canvas');
    check((await page.locator('.react-flow__edge').count()) === billing.edges.length, 'every imported edge is on the canvas');
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(screenshots, 'builder-imported.png') });
    // Opening and looking changed nothing: the export is the imported document.
    const importedId = decodeURIComponent(page.url().split('/').pop());
    const exported = await page.evaluate((p) => fetch(p).then(async (r) => ({ disposition: r.headers.get('content-disposition'), doc: await r.json() })), `/api/v1/flows/${encodeURIComponent(importedId)}/export`);
    check(/attachment; filename=".*\.flow\.json"/.test(exported.disposition ?? ''), `export is a download: ${exported.disposition}`);
    check(isDeepStrictEqual(exported.doc, billing), 'the exported document is the imported one (fields in any order)');

    // ---- the demo flow: no warnings, readable at fit --------------------------------------
    await page.getByRole('button', { name: '← Flows' }).click();
    const demo = JSON.parse(readFileSync(join(repo, 'examples', 'refund.flow.json'), 'utf8'));
    await page.getByRole('link', { name: demo.name }).first().click();
    await page.locator('.react-flow__node').nth(demo.nodes.length - 1).waitFor();
    await page.getByTestId('problems-toggle').filter({ hasText: /^0 errors · 0 warnings$/ }).waitFor();
    const readable = async (when) => {
      await page.waitForTimeout(500);
      const zoom = await page.locator('.react-flow__viewport').evaluate((el) => new DOMMatrix(getComputedStyle(el).transform).a);
      const titlePx = await page.locator('.react-flow__node .card-type').first().evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
      check(titlePx * zoom >= 9, `${when}: card titles are drawn at ${(titlePx * zoom).toFixed(1)}px (zoom ${zoom.toFixed(2)}), at least 9px`);
      // The flow's start is on screen.
      const trigger = await node('start').boundingBox();
      const pane = await page.locator('.react-flow__pane').boundingBox();
      check(trigger && pane && trigger.x >= pane.x && trigger.y >= pane.y && trigger.y + trigger.height <= pane.y + pane.height, `${when}: the trigger is on screen`);
    };
    await readable('opened');
    await page.getByRole('button', { name: 'Fit', exact: true }).click();
    await readable('at fit');
    await page.screenshot({ path: join(screenshots, 'demo-fit.png') });
    // Auto-layout: layered, every edge but a loop-back left to right (unit tested on every
    // example); undone, the demo is as it shipped.
    await page.getByRole('button', { name: 'Auto-layout' }).click();
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(screenshots, 'demo-auto-layout.png') });
    await page.getByRole('button', { name: 'Undo' }).click();
    await saved();

    if (problems.length) throw new Error(`the page reported problems:\n${problems.join('\n')}`);
    console.log('e2e: passed (screenshots in web/e2e/screenshots/)');
  } catch (e) {
    fail(e instanceof Error ? e.stack ?? e.message : String(e));
    if (problems.length) console.error(problems.join('\n'));
    await screenshotAll(browser, 'failure');
  } finally {
    await shutDown(run);
  }
}

main().catch((e) => fail(e instanceof Error ? e.stack ?? e.message : String(e)));
