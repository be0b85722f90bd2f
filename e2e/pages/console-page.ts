import type { Page } from '@playwright/test';

/** The terminal in the DOM renderer (set before load), so its text can be read back. */
export class ConsolePage {
  constructor(private readonly page: Page) {}

  static async preferDomRenderer(page: Page) {
    await page.addInitScript(() => localStorage.setItem('hangar.console.renderer', 'dom'));
  }

  status() {
    return this.page.getByTestId('console-status');
  }

  async type(text: string) {
    await this.page.getByTestId('terminal').click();
    await this.page.keyboard.type(text);
  }

  async text(): Promise<string> {
    return (await this.page.locator('.xterm-rows').innerText()).replace(/\u00a0/g, ' ');
  }
}
