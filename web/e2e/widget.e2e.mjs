// Browser test of the chat widget as a first-time user meets it, against a real `baton serve`:
// the owner copies the install tag from Settings → Widget (and opens the live preview); a
// shopper on a site of another origin, where that tag is pasted, opens the chat with the
// keyboard, talks to the demo flow until it hands over and sees their place in the queue; the
// owner claims and types over the API, and the widget shows "… is typing", then the reply with
// the agent's name and avatar. axe-core checks the widget closed, open, queued and with the
// agent, and the settings page; Escape closes the chat and gives the focus back.
//
// Same requirements as builder.e2e.mjs: Debian's chromium, a built baton; fails in CI without
// chromium.

import { join } from 'node:path';
import { checkAccessibility } from './axe.mjs';
import { call, check, fail, launch, serveOtherOrigin, signIn, screenshotAll, screenshots, shutDown, watch } from './lib.mjs';

/** A site on another origin with the pasted tag. */
function startSite(snippet) {
  return serveOtherOrigin(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title><link rel="icon" href="data:,"></head>
<body><main><h1>A shop somewhere else</h1><p>Questions? <a href="/">Our help pages</a>, or the chat in the corner.</p></main>
${snippet}
</body></html>`);
}

/** What has the keyboard focus inside the widget (its shadow root): a short description. */
function focusedInWidget(page) {
  return page.evaluate(() => {
    const active = document.querySelector('#baton-widget')?.shadowRoot?.activeElement;
    if (!active) return null;
    return active.getAttribute('aria-label') ?? active.textContent ?? active.tagName;
  });
}

/** How many messages the widget's log shows. */
function logSize(page) {
  return page.evaluate(() => document.querySelector('#baton-widget')?.shadowRoot?.querySelector('.log')?.children.length ?? 0);
}

/** An answer to the bot's last question, from what it asks (the demo flow's wording may change). */
function answerTo(question) {
  if (/e-?mail/i.test(question)) return 'jane@example.com';
  if (/order/i.test(question)) return '3348917502';
  if (/account id/i.test(question)) return 'ZB4RJ9NGGM';
  if (/name/i.test(question)) return 'Jane Doe';
  return 'I would like a refund, please.';
}

async function main() {
  const run = await launch('e2e (widget)');
  if (!run) return;
  const { server, browser } = run;
  const problems = [];
  let site;
  try {
    // ---- the owner: Settings → Widget, the tag copied ----------------------------------------
    const ownerCtx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await ownerCtx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const owner = await ownerCtx.newPage();
    watch(owner, problems, 'owner');
    await signIn(owner, server.url, server.owner.email, server.owner.password);
    const workspace = await call(owner, 'GET', '/api/v1/workspace');
    const widgetKey = workspace.body.widget_key;
    check(typeof widgetKey === 'string' && widgetKey.startsWith('wk_'), `the workspace has a widget key: ${JSON.stringify(workspace.body)}`);
    const me = await call(owner, 'GET', '/api/v1/me');
    const ownerName = me.body.member?.name;
    check(typeof ownerName === 'string' && ownerName.length > 0, `the owner has a name: ${JSON.stringify(me.body)}`);
    await owner.getByRole('navigation', { name: 'Main' }).getByText('Settings').click();
    await owner.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Widget' }).click();
    await owner.waitForURL(/\/app\/settings\/widget$/);
    const install = owner.getByTestId('widget-install');
    await install.getByRole('heading', { name: 'Widget' }).waitFor();
    await install.getByTestId('widget-snippet').getByText(widgetKey).waitFor();
    check((await owner.getByTestId('handoff-settings').count()) === 0, 'the tag has a page of its own');
    await install.getByRole('button', { name: 'Copy' }).click();
    await install.getByRole('status').filter({ hasText: /^Copied\./ }).waitFor();
    const copied = await owner.evaluate(() => navigator.clipboard.readText());
    check(
      copied === `<script src="${server.url}/widget.js" data-widget-key="${widgetKey}" async></script>`,
      `the copied tag loads the widget with the workspace's key: ${copied}`,
    );
    await checkAccessibility(owner, 'Settings → Widget', '[data-testid=widget-install]');
    await owner.screenshot({ path: join(screenshots, 'settings-widget.png') });
    // The live preview: a page of this server with the tag; the launcher shows (a flow is live).
    const previewLink = install.getByRole('link', { name: 'Open a live preview' });
    const [preview] = await Promise.all([ownerCtx.waitForEvent('page'), previewLink.click()]);
    watch(preview, problems, 'preview');
    await preview.waitForLoadState();
    check(preview.url().startsWith(`${server.url}/app/widget-preview.html?key=`), `the preview is on this server: ${preview.url()}`);
    await preview.locator('#baton-widget').getByRole('button', { name: 'Open the chat' }).waitFor();
    await checkAccessibility(preview, 'the live preview page');
    await preview.close();

    // ---- the owner opens the inbox: online, so the hand-over queues ---------------------------
    const inbox = await ownerCtx.newPage();
    watch(inbox, problems, 'inbox');
    await inbox.goto(`${server.url}/app/inbox`);
    await inbox.locator('[data-testid=inbox-live][data-live=true]').waitFor();

    // ---- a shopper on the site with the pasted tag -------------------------------------------
    site = await startSite(copied);
    const shopperCtx = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const shopper = await shopperCtx.newPage();
    watch(shopper, problems, 'shopper');
    await shopper.goto(site.url);
    const widget = shopper.locator('#baton-widget');
    const launcher = widget.locator('.launcher');
    await widget.getByRole('button', { name: 'Open the chat' }).waitFor();
    await checkAccessibility(shopper, 'the widget, closed', '#baton-widget');
    // By keyboard: Tab reaches the launcher (after the page's link); Enter opens the chat and
    // the focus goes into it.
    let tabs = 0;
    while ((await focusedInWidget(shopper)) !== 'Open the chat' && tabs < 10) {
      await shopper.keyboard.press('Tab');
      tabs += 1;
    }
    check((await focusedInWidget(shopper)) === 'Open the chat', 'Tab reaches the launcher');
    await shopper.keyboard.press('Enter');
    const dialog = widget.getByRole('dialog', { name: 'Chat with us' });
    await dialog.waitFor();
    check((await launcher.getAttribute('aria-expanded')) === 'true', 'the launcher says the chat is open');
    await shopper.waitForFunction(() => document.querySelector('#baton-widget')?.shadowRoot?.activeElement?.getAttribute('aria-label') === 'Message');
    await widget.locator('.msg.bot').first().waitFor();
    // Escape closes it and gives the focus back to the launcher; Enter opens it again.
    await shopper.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    check((await focusedInWidget(shopper)) === 'Open the chat', `Escape gives the focus back to the launcher: ${await focusedInWidget(shopper)}`);
    await shopper.keyboard.press('Enter');
    await dialog.waitFor();
    const log = widget.getByRole('region', { name: 'Conversation' }).getByRole('log');
    check((await log.getAttribute('aria-live')) === 'polite', 'the messages are a polite live log');
    await checkAccessibility(shopper, 'the widget, open', '#baton-widget');
    await shopper.screenshot({ path: join(screenshots, 'widget-open.png') });

    // Talk to the demo flow until it hands over: press its first answer by keyboard, type
    // answers to its questions (Enter sends).
    const connecting = widget.getByText('Connecting you to a person…');
    for (let turn = 0; turn < 12 && !(await connecting.count()); turn++) {
      const before = await logSize(shopper);
      const answers = widget.getByRole('group', { name: 'Answers to choose from' }).getByRole('button');
      if (await answers.count()) {
        await answers.first().focus();
        await shopper.keyboard.press('Enter');
      } else {
        const question = (await widget.locator('.msg.bot .bubble').last().textContent()) ?? '';
        await widget.getByLabel('Message').fill(answerTo(question));
        await widget.getByLabel('Message').press('Enter');
      }
      // The customer's message and at least one answer, or the hand-over's status.
      await shopper.waitForFunction(
        (n) => {
          const root = document.querySelector('#baton-widget')?.shadowRoot;
          const status = root?.querySelector('.status');
          return (root?.querySelector('.log')?.children.length ?? 0) >= n + 2 || /Connecting you/.test(status?.textContent ?? '');
        },
        before,
      );
    }
    await connecting.waitFor();
    // The place in the queue, from the socket's status frame.
    await widget.getByRole('status').filter({ hasText: /You're next\./ }).waitFor();
    await widget.getByRole('button', { name: 'Stop waiting' }).waitFor();
    await checkAccessibility(shopper, 'the widget, queued', '#baton-widget');
    await shopper.screenshot({ path: join(screenshots, 'widget-queued-position.png') });

    // ---- the agent (the owner's session, over the API): claims, types, replies ----------------
    const stored = await shopper.evaluate((k) => JSON.parse(localStorage.getItem(`baton.widget.${k}`) ?? 'null'), widgetKey);
    check(stored?.conversationId, `the widget keeps its conversation: ${JSON.stringify(stored)}`);
    const path = `/api/v1/inbox/conversations/${encodeURIComponent(stored.conversationId)}`;
    const claimed = await call(inbox, 'POST', `${path}/claim`, {});
    check(claimed.status === 200, `claimed: ${JSON.stringify(claimed)}`);
    await widget.getByText(`You're chatting with ${ownerName}`).waitFor();
    await widget.locator('.head .sub', { hasText: `${ownerName} from our team is here` }).waitFor();
    const typing = await call(inbox, 'POST', `${path}/typing`);
    check(typing.status === 204, `typing: ${JSON.stringify(typing)}`);
    await widget.getByText(`${ownerName} is typing…`).waitFor();
    await shopper.screenshot({ path: join(screenshots, 'widget-typing.png') });
    const replied = await call(inbox, 'POST', `${path}/reply`, { text: 'Hi Jane, I am on it.', client_id: 'e2e-reply-1' });
    check(replied.status === 200, `replied: ${JSON.stringify(replied)}`);
    const agentMessage = widget.locator('.msg.agent', { hasText: 'Hi Jane, I am on it.' });
    await agentMessage.locator('.who', { hasText: ownerName }).waitFor();
    const avatar = agentMessage.locator('.avatar');
    const initials = ownerName.trim().split(/\s+/).map((w) => w[0]).filter((_, i, all) => i === 0 || i === all.length - 1).join('').toUpperCase();
    check((await avatar.textContent()) === initials, `the avatar shows the initials ${initials}: ${await avatar.textContent()}`);
    const background = await avatar.evaluate((el) => getComputedStyle(el).backgroundColor);
    check(/^rgb\(/.test(background) && background !== 'rgba(0, 0, 0, 0)', `the avatar has a colour: ${background}`);
    // The agent's message ends "is typing".
    await widget.getByText(`${ownerName} is typing…`).waitFor({ state: 'detached' });
    await checkAccessibility(shopper, 'the widget, with the agent', '#baton-widget');
    await shopper.screenshot({ path: join(screenshots, 'widget-agent.png') });
    await shopper.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    check((await focusedInWidget(shopper)) === 'Open the chat', 'Escape gives the focus back to the launcher');

    if (problems.length) throw new Error(`the pages reported problems:\n${problems.join('\n')}`);
    console.log('e2e (widget): passed (screenshots in web/e2e/screenshots/)');
  } catch (e) {
    fail(e instanceof Error ? e.stack ?? e.message : String(e));
    if (problems.length) console.error(problems.join('\n'));
    await screenshotAll(browser, 'widget-failure');
  } finally {
    site?.srv.close();
    await shutDown(run);
  }
}

main().catch((e) => fail(e instanceof Error ? e.stack ?? e.message : String(e)));
