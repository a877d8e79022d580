// Browser test of entry routing against a real `baton serve`: a second live flow gets a keyword
// rule in the trigger's panel, is tried before the demo (the fallback) on the Flows page, and a
// conversation whose first message has the keyword starts on it while the rest still reach the
// demo flow.
//
// Same requirements as builder.e2e.mjs: Debian's chromium, a built baton; fails in CI without
// chromium.

import { join } from 'node:path';
import { call, check, fail, launch, screenshotAll, screenshots, shutDown, watch } from './lib.mjs';

const REFUNDS = {
  format: 1,
  name: 'Refunds (e2e)',
  nodes: [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 } },
    { id: 'hello', type: 'message', text: 'Refund desk here.', position: { x: 0, y: 150 } },
    { id: 'done', type: 'end', position: { x: 0, y: 300 } },
  ],
  edges: [
    { from: 'start', port: 'next', to: 'hello' },
    { from: 'hello', port: 'next', to: 'done' },
  ],
};

async function main() {
  const run = await launch('e2e');
  if (!run) return;
  const { server, browser } = run;
  const problems = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    watch(page, problems, 'owner');
    await page.goto(`${server.url}/app/login`);
    await page.getByLabel('Email').fill(server.owner.email);
    await page.getByLabel('Password').fill(server.owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Flows' }).waitFor();

    // One live flow: the demo, which is the fallback.
    const routingPanel = page.locator('section.routing');
    await routingPanel.getByText('fallback: takes the rest').waitFor();

    // A second flow; its entry rule is set in the trigger's panel.
    const created = await call(page, 'POST', '/api/v1/flows', { document: REFUNDS });
    check(created.status === 201, `the flow is created: ${JSON.stringify(created)}`);
    const flowId = created.body.id;
    await page.goto(`${server.url}/app/flows/${encodeURIComponent(flowId)}`);
    await page.locator('.react-flow__node[data-id="start"]').click();
    const panel = page.getByTestId('property-panel');
    await panel.getByLabel('Starts on').selectOption('keyword');
    await panel.getByText('Add a keyword or an intent.').waitFor();
    await panel.getByLabel('Keywords').fill('refund\nmoney back');
    await panel.getByLabel('The channel is').click();
    await panel.getByText('Add a keyword or an intent.').waitFor({ state: 'detached' });
    await page.locator('[data-testid=save-state][data-state=saved]').waitFor();
    await page.screenshot({ path: join(screenshots, 'trigger-entry-rules.png') });
    const published = await call(page, 'POST', `/api/v1/flows/${encodeURIComponent(flowId)}/publish`, {});
    check(published.status === 201, `published: ${JSON.stringify(published)}`);
    const live = await call(page, 'PUT', `/api/v1/flows/${encodeURIComponent(flowId)}/live`, { live: true });
    check(live.status === 200, `switched on: ${JSON.stringify(live)}`);

    // The Flows page lists both live flows in order, with the new flow's rule in words.
    await page.getByRole('button', { name: '← Flows' }).click();
    const refundsRow = routingPanel.locator(`li[data-routing-flow="${flowId}"]`);
    await refundsRow.getByText('first message: “refund”, “money back”').waitFor();
    await page.screenshot({ path: join(screenshots, 'flows-routing.png') });

    // A first message with the keyword starts the new flow; anything else reaches the demo.
    const start = (message) => call(page, 'POST', '/api/v1/widget/conversations', { widget_key: widgetKey, message });
    const widgetKey = (await call(page, 'GET', '/api/v1/workspace')).body.widget_key;
    const refund = await start('I want my money back please');
    check(refund.status === 201 && refund.body.conversation.flow_id === flowId, `the keyword routes to the new flow: ${JSON.stringify(refund.body)}`);
    check(refund.body.messages[0]?.text === 'Refund desk here.', `its greeting: ${JSON.stringify(refund.body.messages)}`);
    const other = await start('hello there');
    check(other.status === 201 && other.body.conversation.flow_id !== flowId, `other messages reach the fallback: ${JSON.stringify(other.body)}`);

    // The new flow made the fallback: the demo, which has no rules, then takes every
    // conversation first, and the page says the fallback never starts.
    // The radio follows the server's answer (a controlled input), so click and wait for it.
    await refundsRow.getByRole('radio').click();
    await refundsRow.locator('input[type=radio]:checked').waitFor();
    const findings = routingPanel.getByRole('list', { name: 'Routing problems' });
    await findings.getByText('never starts').waitFor();
    const demoRow = routingPanel.locator('li[data-routing-flow]').filter({ hasNotText: 'Refunds (e2e)' });
    await demoRow.getByText('every conversation').waitFor();
    // The order buttons move a flow; the server keeps the order.
    const order = async () => (await call(page, 'GET', '/api/v1/flows/routing')).body.flows.filter((f) => f.live).map((f) => f.id);
    const demoId = await demoRow.getAttribute('data-routing-flow');
    check((await order()).join(',') === `${demoId},${flowId}`, `the demo first: ${await order()}`);
    await refundsRow.getByRole('button', { name: 'Move Refunds (e2e) up' }).click();
    await routingPanel.locator('li[data-routing-flow]').first().filter({ hasText: 'Refunds (e2e)' }).waitFor();
    check((await order()).join(',') === `${flowId},${demoId}`, `the new flow first: ${await order()}`);
    // Back to the demo as the fallback: no problems, and the keyword still routes.
    await demoRow.getByRole('radio').click();
    await demoRow.locator('input[type=radio]:checked').waitFor();
    await findings.waitFor({ state: 'detached' });
    const again = await start('refund');
    check(again.body.conversation.flow_id === flowId, 'the keyword still routes to the new flow');

    if (problems.length) throw new Error(`the page reported problems:\n${problems.join('\n')}`);
    console.log('e2e routing: passed (screenshots in web/e2e/screenshots/)');
  } catch (e) {
    fail(e instanceof Error ? e.stack ?? e.message : String(e));
    if (problems.length) console.error(problems.join('\n'));
    await screenshotAll(browser, 'routing-failure');
  } finally {
    await shutDown(run);
  }
}

main().catch((e) => fail(e instanceof Error ? e.stack ?? e.message : String(e)));
