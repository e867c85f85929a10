/** The pages' scripts must run on old TV browsers (ES5) and must not let data break out of the page. */
import { displayPage } from './display-page';
import { tokenPage } from './token-page';

function inlineScripts(html: string): string[] {
  return [...html.matchAll(/<script nonce="[^"]+">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
}

const pages = {
  display: displayPage({ branchId: 'b1', doctorId: null, lang: 'en-US' }, 'n0nce'),
  token: tokenPage({ token: { id: 't1', number: 7, slotId: 's1', status: 'BOOKED' }, slot: { id: 's1' }, doctor: { id: 'd1', name: 'Dr. X</script><b>', department: null } }, 'n0nce'),
};

describe.each(Object.entries(pages))('%s page', (_name, html) => {
  it('has one inline script, valid JavaScript, written in ES5', () => {
    const scripts = inlineScripts(html);
    expect(scripts).toHaveLength(1);
    const script = scripts[0];
    expect(() => new Function(script)).not.toThrow();
    expect(script).not.toMatch(/=>|`|\b(let|const|class)\s|\.\.\.|\basync\b|\bawait\b/);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet/);
  });

  it('keeps data inside its JSON block', () => {
    expect(html).not.toContain('</script><b>');
  });
});
