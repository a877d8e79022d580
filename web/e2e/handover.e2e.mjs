// Browser test of the hand-over path against a real `baton serve`: build a flow (trigger →
// message → collect email → hand-over to billing → handed_back message → end) from an empty
// canvas, play it in the builder's test conversation, publish it and switch it live; a customer
// chats through the widget on a page of ANOTHER origin (one script tag) until the hand-over; the
// agent sees it in the inbox with the email in the context card, claims, replies and hands back;
// the widget shows the agent's reply with the agent's name, then the flow continuing. Also: the
// widget keeps its conversation over a reload, and customer text is shown as text (no HTML).
//
// Same requirements as builder.e2e.mjs: Debian's chromium, a built baton; fails in CI without
// chromium.

import { join } from 'node:path';
import { call, check, fail, launch, serveOtherOrigin, signIn, screenshotAll, screenshots, shutDown, watch } from './lib.mjs';

const XSS = '<img src=x onerror=alert(1)>';
const BACK_TEMPLATE = 'Welcome back! {{ email }} is on file. Anything else?';
const BACK = 'Welcome back! jane@example.com is on file. Anything else?';

/** A tiny static site on another origin: one page with the widget's one script tag. */
function startSite(batonUrl, widgetKey, flowId) {
  return serveOtherOrigin(`<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<style>body{font:16px system-ui;margin:2rem;background:#fafafa} h1{color:#333}</style></head>
<body><h1>A shop somewhere else</h1><p>Questions? Use the chat in the corner.</p>
<script src="${batonUrl}/widget.js" data-widget-key="${widgetKey}" data-flow-id="${flowId}" async></script>
</body></html>`);
}

async function main() {
  const run = await launch('e2e (hand-over)');
  if (!run) return;
  const { server, browser } = run;
  const problems = [];
  let site;
  try {
    const widgetJs = await fetch(`${server.url}/widget.js`);
    check(widgetJs.ok && /javascript/.test(widgetJs.headers.get('content-type') ?? ''), `/widget.js is served: ${widgetJs.status}`);

    // ---- the builder: a flow from an empty canvas ----------------------------------------------
    const builderCtx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await builderCtx.newPage();
    watch(page, problems, 'builder');
    await signIn(page, server.url, server.owner.email, server.owner.password);
    await page.getByRole('button', { name: '+ New flow' }).click();
    await page.getByLabel('New flow name').fill('Billing hand-over (e2e)');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(/\/app\/flows\/[^/]+$/);
    const flowId = decodeURIComponent(page.url().split('/').pop());
    const node = (id) => page.locator(`.react-flow__node[data-id="${id}"]`);
    const panel = page.getByTestId('property-panel');
    const saved = () => page.locator('[data-testid=save-state][data-state=saved]').waitFor();
    const addNode = async (label) => {
      await page.getByRole('button', { name: '+ Add Node' }).click();
      await page.getByTestId('add-node-menu').getByRole('menuitem', { name: new RegExp(`^${label}`) }).click();
    };
    await node('start').click();
    await addNode('Message');
    await node('message_1').waitFor();
    await panel.locator('textarea[name=text]').fill('Hi! Billing questions? I can help.');
    await addNode('Collect Input');
    await node('ask_1').waitFor();
    await panel.locator('textarea[name=text]').fill("What's the email on your account?");
    await panel.locator('input[name=variable]').fill('email');
    await panel.locator('select[name=input]').selectOption('email');
    await addNode('Human Handover');
    await node('handover_1').waitFor();
    await panel.getByLabel('Team', { exact: true }).fill('billing');
    await panel.getByLabel('Add a known variable').selectOption('email');
    await panel.locator('.chip', { hasText: 'email' }).waitFor();
    await saved();
    await page.getByRole('button', { name: 'Fit', exact: true }).click();
    await page.waitForTimeout(400);
    // handed_back → a new Message (port dragged to empty canvas), then an End.
    const handle = node('handover_1').locator('.port[data-port="handed_back"] .react-flow__handle');
    const hb = await handle.boundingBox();
    check(hb, 'the handed_back handle is on screen');
    const canvas = await page.locator('.react-flow__pane').boundingBox();
    const drop = { x: Math.min(hb.x + 260, canvas.x + canvas.width - 40), y: Math.min(hb.y + 140, canvas.y + canvas.height - 40) };
    await page.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2);
    await page.mouse.down();
    await page.mouse.move(drop.x, drop.y, { steps: 12 });
    await page.mouse.up();
    await page.getByTestId('add-node-menu').getByRole('menuitem', { name: /^Message/ }).click();
    await node('message_2').waitFor();
    await panel.locator('textarea[name=text]').fill('Welcome back! We have {{ email }} on file. Anything else?');
    await addNode('End');
    await node('end_1').waitFor();
    await saved();
    await page.getByTestId('problems-toggle').filter({ hasText: /^0 errors/ }).waitFor();
    await page.getByRole('button', { name: 'Auto-layout' }).click();
    await saved();

    // ---- the test conversation -----------------------------------------------------------------
    await page.getByTestId('test-toggle').click();
    const tp = page.getByTestId('test-panel');
    const log = tp.getByTestId('sim-log');
    await log.getByText('Hi! Billing questions? I can help.').waitFor();
    await log.getByText("What's the email on your account?").waitFor();
    await node('ask_1').and(page.locator('[data-lit=current]')).or(page.locator('.react-flow__node[data-id="ask_1"] [data-lit=current]')).first().waitFor();
    await tp.getByLabel('Message as the customer').fill('jane@example.com');
    await tp.getByRole('button', { name: 'Send' }).click();
    await tp.getByTestId('sim-status').filter({ hasText: 'queued' }).waitFor();
    await tp.getByTestId('sim-vars').getByRole('row', { name: 'email jane@example.com' }).waitFor();
    check((await page.locator('.react-flow__edge.edge-lit').count()) >= 3, 'the path is lit on the canvas');
    await page.locator('.react-flow__node[data-id="handover_1"] [data-lit=current]').waitFor();
    await tp.getByRole('button', { name: 'Take over' }).click();
    await tp.getByTestId('sim-status').filter({ hasText: 'assigned' }).waitFor();
    await tp.getByLabel('Reply as the agent').fill('Hello from billing');
    await tp.getByRole('button', { name: 'Reply', exact: true }).click();
    await log.getByText('Hello from billing').waitFor();
    await tp.getByLabel('Hand-back variables').fill('refund=42');
    await tp.getByRole('button', { name: 'Hand back' }).click();
    await log.getByText('Welcome back! We have jane@example.com on file. Anything else?').waitFor();
    await tp.getByTestId('sim-vars').getByRole('row', { name: 'refund 42' }).waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(screenshots, 'builder-test.png') });
    // Editing the flow with the panel closed keeps the conversation; it plays again on the new draft.
    await tp.getByRole('button', { name: 'Close the test panel' }).click();
    await node('message_2').click();
    await panel.locator('textarea[name=text]').fill(BACK_TEMPLATE);
    await saved();
    await page.getByTestId('test-toggle').click();
    await log.getByText(BACK).waitFor();
    await page.locator('.react-flow__node[data-id="end_1"] [data-lit=current]').waitFor();
    // With no scripted tests yet, the coverage overlay dims every node.
    await tp.getByRole('button', { name: 'Run all tests' }).click();
    await tp.getByTestId('test-run').getByText(/0 passed · 0 failed/).waitFor();
    await page.locator('.react-flow__node[data-id="handover_1"] [data-lit=uncovered]').waitFor();
    check((await page.locator('[data-lit=uncovered]').count()) === 6, 'every node is dimmed with no tests');
    await page.screenshot({ path: join(screenshots, 'builder-coverage-none.png') });
    await tp.getByRole('button', { name: 'Hide coverage' }).click();
    await page.locator('.react-flow__node[data-id="end_1"] [data-lit=current]').waitFor();
    // Saved as a scripted test, then all tests run: it passes and covers every node.
    await tp.getByRole('button', { name: 'Save as scripted test' }).click();
    await tp.getByText(/^Saved as the scripted test/).waitFor();
    await saved();
    await tp.getByRole('button', { name: 'Run all tests' }).click();
    const run = tp.getByTestId('test-run');
    await run.getByText(/1 passed · 0 failed/).waitFor();
    await run.locator('li[data-passed=true]').first().waitFor();
    await run.getByText(/coverage 6\/6 nodes/).waitFor();
    check((await page.locator('[data-lit=uncovered], .port.port-uncovered').count()) === 0, 'the test covers every node and wired port: nothing is dimmed');
    await page.screenshot({ path: join(screenshots, 'builder-coverage.png') });
    const draft = await page.evaluate((p) => fetch(p).then((r) => r.json()), `/api/v1/flows/${encodeURIComponent(flowId)}`);
    check(draft.draft.tests?.length === 1 && draft.draft.tests[0].steps.some((s) => s.expect_reply), `the test is saved in the draft: ${JSON.stringify(draft.draft.tests)}`);
    // The world's switches and the clock: with no agent online the hand-over says so; with an
    // agent but nobody claiming, an hour on the clock runs past the maximum wait.
    await tp.getByRole('button', { name: 'Restart' }).click();
    await tp.getByTestId('sim-status').filter({ hasText: 'bot' }).waitFor();
    const agentsOnline = tp.getByLabel('Agents online');
    await agentsOnline.click();
    await tp.locator('[data-switch=agents_online][data-on=false]').waitFor();
    await tp.getByLabel('Message as the customer').fill('jane@example.com');
    await tp.getByRole('button', { name: 'Send' }).click();
    await tp.getByTestId('sim-status').filter({ hasText: /^(ended|resolved)$/ }).waitFor();
    await log.getByText('Nobody from our team is available right now.').waitFor();
    await tp.getByRole('button', { name: 'Restart' }).click();
    await tp.getByTestId('sim-status').filter({ hasText: 'bot' }).waitFor();
    // Switch agents back on once the restart has settled (a click during it could be undone).
    if (await tp.locator('[data-switch=agents_online][data-on=false]').count()) await agentsOnline.click();
    await tp.locator('[data-switch=agents_online][data-on=true]').waitFor();
    await tp.getByLabel('Message as the customer').fill('jane@example.com');
    await tp.getByRole('button', { name: 'Send' }).click();
    await tp.getByTestId('sim-status').filter({ hasText: 'queued' }).waitFor();
    await tp.getByRole('button', { name: '+1 h' }).click();
    await tp.getByTestId('sim-clock').filter({ hasText: '+1h' }).waitFor();
    await tp.getByTestId('sim-status').filter({ hasText: /^(ended|resolved)$/ }).waitFor();
    await log.getByText("Everyone on our team is busy right now, but you're still in the queue. Thanks for waiting.").waitFor();
    await page.screenshot({ path: join(screenshots, 'builder-clock.png') });
    await tp.getByRole('button', { name: 'Close the test panel' }).click();

    // ---- publish, live ------------------------------------------------------------------------
    await page.getByRole('button', { name: 'Publish…' }).click();
    await page.getByTestId('publish-confirm').click();
    await page.getByTestId('publish-result').getByText('Published version 1.').waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    // The first publish went live (the dialog's "Go live now?" is ticked the first time).
    await page.getByText('Live · v1').waitFor();
    const ws = await page.evaluate(() => fetch('/api/v1/workspace').then((r) => r.json()));
    check(typeof ws.widget_key === 'string' && ws.widget_key.startsWith('wk_'), 'the workspace has a widget key');

    // ---- the agent opens the inbox (which makes them online) ------------------------------------
    const agentCtx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const agent = await agentCtx.newPage();
    watch(agent, problems, 'inbox');
    await signIn(agent, server.url, server.owner.email, server.owner.password);
    await agent.getByRole('navigation', { name: 'Main' }).getByText('Inbox').click();
    await agent.waitForURL(/\/app\/inbox$/);
    await agent.locator('[data-testid=inbox-live][data-live=true]').waitFor();
    // A second tab is signed in too, and can change things (the CSRF token comes from /me).
    const secondTab = await agentCtx.newPage();
    watch(secondTab, problems, 'second tab');
    await secondTab.goto(`${server.url}/app/inbox`);
    await secondTab.locator('[data-testid=inbox-live][data-live=true]').waitFor();
    check(!secondTab.url().includes('/login'), `the second tab is signed in: ${secondTab.url()}`);
    const presence = await call(secondTab, 'PUT', '/api/v1/me/presence', { status: 'online' });
    check(presence.status === 200, `the second tab can write: ${JSON.stringify(presence)}`);
    await secondTab.close();

    // ---- the customer, on another origin ------------------------------------------------------
    site = await startSite(server.url, ws.widget_key, flowId);
    const customerCtx = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const customer = await customerCtx.newPage();
    watch(customer, problems, 'widget');
    await customer.goto(site.url);
    const widget = customer.locator('#baton-widget');
    await widget.getByRole('button', { name: 'Open the chat' }).click();
    await widget.locator('.msg.bot', { hasText: 'Hi! Billing questions? I can help.' }).waitFor();
    await widget.locator('.msg.bot', { hasText: "What's the email on your account?" }).waitFor();
    // A reload keeps the conversation (and the window open).
    await customer.reload();
    await widget.locator('.msg.bot', { hasText: "What's the email on your account?" }).waitFor();
    check((await widget.locator('.msg.bot').count()) === 2, 'the history is shown once after the reload');
    await widget.getByLabel('Message').fill('jane@example.com');
    await widget.getByRole('button', { name: 'Send' }).click();
    await widget.locator('.msg.customer', { hasText: 'jane@example.com' }).waitFor();
    await widget.getByText('Connecting you to a person…').waitFor();
    // Its place in the queue (nobody ahead) and a way to stop waiting.
    await widget.getByText(/You're next\./).waitFor();
    await widget.getByRole('button', { name: 'Stop waiting' }).waitFor();
    await widget.getByLabel('Message').fill(XSS);
    await widget.getByRole('button', { name: 'Send' }).click();
    await widget.locator('.msg.customer .bubble', { hasText: XSS }).waitFor();
    check((await widget.locator('.log img').count()) === 0, 'the widget shows the customer text as text');
    await customer.waitForTimeout(300);
    await customer.screenshot({ path: join(screenshots, 'widget-queued.png') });

    // ---- the agent: queued, context card, claim, reply, hand back -------------------------------
    await agent.getByTestId('inbox-toast').first().waitFor();
    const item = agent.locator('.inbox-item', { hasText: 'queued' }).first();
    await item.waitFor();
    // The row says who (the email the flow collected) and the last message (as of the list's
    // last load: the bot's confirmation, or the customer's text after it).
    await item.getByTestId('row-name').getByText('jane@example.com').waitFor();
    await item.getByTestId('row-last').getByText(/^(Bot|Customer): /).waitFor();
    check(/^\(\d+\) /.test(await agent.title()), `the title shows a badge: ${await agent.title()}`);
    await item.click();
    const card = agent.getByTestId('context-card');
    await card.locator('[data-var=email]').getByText('jane@example.com').waitFor();
    await card.locator('[data-var=email] .type').getByText('email').waitFor();
    // The context card comes before the transcript.
    const order = await agent.evaluate(() => {
      const c = document.querySelector('[data-testid=context-card]');
      const t = document.querySelector('[data-testid=transcript]');
      return c && t ? c.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING : 0;
    });
    check(order, 'the context card is shown before the transcript');
    const transcript = agent.getByTestId('transcript');
    await transcript.locator('.tl-customer .tl-text', { hasText: XSS }).waitFor();
    check((await transcript.locator('img').count()) === 0, 'the inbox shows the customer text as text');
    // A first-reply target of 10 minutes for the default queue: the claim starts it, and the
    // inbox shows the time left until the agent's reply.
    const current = await call(agent, 'GET', '/api/v1/workspace');
    const withTargets = { ...current.body.settings, reply_targets: { first_reply_seconds: 600, next_reply_seconds: 0, when_missed: 'requeue' } };
    check((await call(agent, 'PUT', '/api/v1/workspace/settings', withTargets)).status === 200, 'reply targets saved');
    await agent.getByRole('button', { name: 'Claim' }).click();
    await agent.locator('[data-testid=conv-status]', { hasText: 'assigned' }).waitFor();
    await agent.locator('.conv-head [data-testid=reply-due]', { hasText: /^reply in (9|10) min$/ }).waitFor();
    await agent.locator('.inbox-item.active [data-testid=reply-due]', { hasText: /^reply in (9|10) min$/ }).waitFor();
    await agent.getByRole('tab', { name: 'Note' }).click();
    await agent.getByLabel('Internal note').fill('Customer wants a refund.');
    await agent.getByRole('button', { name: 'Add note' }).click();
    await transcript.locator('.tl-note', { hasText: 'Customer wants a refund.' }).waitFor();
    await agent.getByRole('tab', { name: 'Reply' }).click();
    await agent.getByLabel('Reply to the customer').fill('Hi Jane, this is Owner from billing. Your refund is on its way.');
    await agent.getByRole('button', { name: 'Send reply' }).click();
    await transcript.locator('.tl-agent', { hasText: 'Your refund is on its way.' }).waitFor();
    // The reply stops the clock.
    await agent.locator('.conv-head [data-testid=reply-due]').waitFor({ state: 'detached' });
    await agent.waitForTimeout(300);
    await agent.screenshot({ path: join(screenshots, 'inbox.png') });

    // The customer sees the agent's name and reply (not the note).
    await widget.locator('.msg.agent', { hasText: 'Your refund is on its way.' }).locator('.who', { hasText: 'Owner' }).waitFor();
    await widget.getByText("You're chatting with Owner").waitFor();
    check((await widget.getByText('Customer wants a refund.').count()) === 0, 'notes never reach the customer');

    await agent.getByRole('button', { name: 'Hand back…' }).click();
    await agent.getByLabel('Variable 1 name').fill('refund');
    await agent.getByLabel('Variable 1 value').fill('42');
    await agent.getByRole('button', { name: 'Hand back to the bot' }).click();
    await agent.locator('[data-testid=conv-status]', { hasText: /^(bot|resolved)$/ }).waitFor();
    // The flow continues in the widget.
    await widget.locator('.msg.bot', { hasText: BACK }).waitFor();
    await customer.waitForTimeout(300);
    await customer.screenshot({ path: join(screenshots, 'widget.png') });
    // The flow ends (and resolves) the conversation: the widget says so and offers a new one.
    await widget.getByText(/This conversation has ended/).waitFor();
    check(await widget.getByLabel('Message').isDisabled(), 'typing is off in an ended conversation');
    await widget.getByRole('button', { name: 'Start a new conversation' }).click();
    await widget.locator('.msg.bot', { hasText: "What's the email on your account?" }).waitFor();
    check((await widget.locator('.msg').count()) === 2, 'a new conversation starts empty');
    // Queued again, the customer stops waiting from the widget.
    await widget.getByLabel('Message').fill('jane@example.com');
    await widget.getByRole('button', { name: 'Send' }).click();
    await widget.getByText('Connecting you to a person…').waitFor();
    await widget.getByRole('button', { name: 'Stop waiting' }).click();
    await widget.locator('.msg.bot', { hasText: "Okay, I've cancelled your request for a person." }).waitFor();
    await widget.getByText('Connecting you to a person…').waitFor({ state: 'detached' });

    // ---- analytics, on the canvas and on its page; settings -----------------------------------
    await agent.goto(`${server.url}/app/flows/${encodeURIComponent(flowId)}`);
    await agent.locator('.react-flow__node[data-id="handover_1"] [data-testid=node-handovers]', { hasText: '2' }).waitFor();
    await agent.getByRole('button', { name: 'Analytics' }).click();
    await agent.waitForURL(/\/analytics$/);
    const row = agent.locator('tr[data-node="handover_1"]');
    await row.waitFor();
    check((await row.locator('td').nth(1).textContent()) === '2', 'two hand-overs at handover_1');
    await row.getByText(/handed back 1/).waitFor();
    await row.getByText(/cancelled 1/).waitFor();
    // The agent replied in time: no missed reply target, and nobody rated yet.
    await agent.getByTestId('stat-reply-missed').getByText('0', { exact: true }).waitFor();
    await agent.getByTestId('stat-csat').getByText('—').waitFor();
    await agent.getByTestId('by-agent').getByText('No ratings or missed reply targets yet.').waitFor();
    await agent.screenshot({ path: join(screenshots, 'analytics.png') });
    await agent.getByRole('navigation', { name: 'Main' }).getByText('Settings').click();
    const settingsNav = agent.getByRole('navigation', { name: 'Settings' });
    await settingsNav.getByText('Widget').click();
    await agent.getByTestId('widget-snippet').getByText(/widget\.js/).waitFor();
    await settingsNav.getByText('Hand-off').click();
    // Hand-off settings: round-robin assignment and a shorter stalling time, saved.
    await agent.getByLabel('Stalling time (seconds)').fill('90');
    await agent.getByLabel('Assignment').selectOption('round_robin');
    // Reply targets in minutes: the 10 minutes set above are shown; 5 and a next-reply target.
    const targetsForm = agent.getByTestId('handoff-settings').getByTestId('reply-targets');
    check((await targetsForm.getByLabel(/First reply within/).inputValue()) === '10', 'the first-reply target is shown in minutes');
    await targetsForm.getByLabel(/First reply within/).fill('5');
    await targetsForm.getByLabel(/Next reply within/).fill('15');
    await targetsForm.getByLabel('When an agent misses it').selectOption('next_agent');
    await agent.getByRole('button', { name: 'Save', exact: true }).click();
    await agent.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const wsAfter = await agent.evaluate(() => fetch('/api/v1/workspace').then((r) => r.json()));
    check(wsAfter.settings.handoff.stalling_seconds === 90 && wsAfter.settings.assignment === 'round_robin', `settings saved: ${JSON.stringify(wsAfter.settings)}`);
    const savedTargets = wsAfter.settings.reply_targets;
    check(savedTargets.first_reply_seconds === 300 && savedTargets.next_reply_seconds === 900 && savedTargets.when_missed === "next_agent", `reply targets saved: ${JSON.stringify(savedTargets)}`);
    // A team with business hours (Monday and Tuesday) and a holiday.
    await settingsNav.getByText('Teams').click();
    await agent.getByRole('cell', { name: 'billing', exact: true }).waitFor();
    await agent.getByRole('button', { name: '+ New team' }).click();
    const editor = agent.getByTestId('team-editor');
    await editor.getByLabel('Name').fill('Support');
    await editor.getByLabel('Slug').fill('support');
    await editor.getByLabel('Owner').check();
    await editor.getByText('Business hours (otherwise always open)').click();
    await editor.getByLabel('Time zone').fill('Europe/Paris');
    for (const day of ['wednesday', 'thursday', 'friday']) await editor.getByLabel(`Open on ${day}`).uncheck();
    await editor.getByLabel('tuesday closes').fill('24:00');
    await editor.getByRole('button', { name: '+ Holiday' }).click();
    await editor.locator('input[type=date]').fill('2026-12-25');
    await editor.getByPlaceholder('name').fill('Christmas');
    // The team's own reply targets.
    await editor.getByText("Own reply targets (otherwise the workspace's, under Hand-off)").click();
    await editor.getByLabel(/Next reply within/).fill('30');
    await agent.screenshot({ path: join(screenshots, 'settings-team-editor.png') });
    await editor.getByRole('button', { name: 'Save team' }).click();
    await agent.getByRole('cell', { name: 'support', exact: true }).waitFor();
    const teams = await agent.evaluate(() => fetch('/api/v1/teams').then((r) => r.json()).then((page) => page.items));
    const support = teams.find((t) => t.slug === 'support');
    check(
      support?.business_hours?.timezone === 'Europe/Paris' &&
        support.business_hours.weekly.map((w) => `${w.day} ${w.open}-${w.close}`).join(',') === 'monday 09:00-17:00,tuesday 09:00-24:00' &&
        support.business_hours.holidays[0]?.name === 'Christmas' &&
        support.members.length === 1 &&
        support.reply_targets?.next_reply_seconds === 1800 &&
        support.reply_targets.first_reply_seconds === 0,
      `the team is saved: ${JSON.stringify(support)}`,
    );
    await agent.getByRole('row', { name: /support/ }).getByText('next reply 30 min · then back to the queue').waitFor();
    await agent.getByRole('row', { name: /billing/ }).getByText("the workspace's").waitFor();
    await agent.screenshot({ path: join(screenshots, 'settings-teams.png') });
    // An event subscription; its (empty) delivery log.
    await settingsNav.getByText('Event subscriptions').click();
    await agent.getByLabel('URL').fill('https://example.com/hooks/baton');
    await agent.getByRole('button', { name: 'Subscribe' }).click();
    await agent.getByRole('cell', { name: 'https://example.com/hooks/baton' }).waitFor();
    await agent.getByRole('button', { name: 'Deliveries' }).click();
    await agent.getByRole('heading', { name: 'Deliveries' }).waitFor();
    await agent.getByRole('navigation', { name: 'Settings' }).getByText('Knowledge base').click();
    await agent.getByTestId('knowledge').getByRole('heading', { name: 'Knowledge base' }).waitFor();

    // The flow switched off (in the builder): a new visitor's page shows no launcher.
    await page.getByRole('switch', { name: 'Live' }).click({ force: true });
    await page.getByText('Off · v1').waitFor();
    const visitorCtx = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const visitor = await visitorCtx.newPage();
    watch(visitor, problems, 'visitor');
    await visitor.goto(site.url);
    const visitorWidget = visitor.locator('#baton-widget');
    await visitor.waitForFunction(() => {
      const host = document.querySelector('#baton-widget');
      const launcher = host?.shadowRoot?.querySelector('.launcher');
      return launcher instanceof HTMLElement && launcher.hidden;
    });
    check((await visitorWidget.getByRole('button', { name: 'Open the chat' }).count()) === 0 || !(await visitorWidget.getByRole('button', { name: 'Open the chat' }).isVisible()), 'no launcher without a live flow');
    if (problems.length) throw new Error(`the pages reported problems:\n${problems.join('\n')}`);
    console.log('e2e (hand-over): passed (screenshots in web/e2e/screenshots/)');
  } catch (e) {
    fail(e instanceof Error ? e.stack ?? e.message : String(e));
    if (problems.length) console.error(problems.join('\n'));
    await screenshotAll(browser, 'handover-failure');
  } finally {
    site?.srv.close();
    await shutDown(run);
  }
}

main().catch((e) => fail(e instanceof Error ? e.stack ?? e.message : String(e)));
