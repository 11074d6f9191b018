import { assertStrongPassword } from './password-strength';

describe('assertStrongPassword', () => {
  it('refuses a guessable password with users/weak_password, naming the field and the reason', async () => {
    await expect(assertStrongPassword('1234567890', 3)).rejects.toMatchObject({ code: 'users/weak_password', field: 'password', status: 400 });
    await expect(assertStrongPassword('someone1', 3, ['someone@example.com'])).rejects.toMatchObject({ code: 'users/weak_password' });
  });

  it('accepts a strong one', async () => {
    await expect(assertStrongPassword('correct-horse-battery-staple-Quixotic', 3, ['someone@example.com'])).resolves.toBeUndefined();
  });

  it('leaves the event loop free while checks run, and answers each check as it was asked', async () => {
    const passwords = Array.from({ length: 8 }, (_, i) => (i % 2 ? `Pass-${i}-3f1c9a7e-2b4d-4e8f-9a1b-${i}c5d6e7f8a9b` : 'password1'));
    let turns = 0;
    let done = false;
    const ticking = (async () => {
      while (!done) {
        await new Promise((resolve) => setImmediate(resolve));
        turns++;
      }
    })();
    const verdicts = await Promise.all(
      passwords.map((p) =>
        assertStrongPassword(p, 3).then(
          () => 'strong',
          () => 'weak',
        ),
      ),
    );
    done = true;
    await ticking;
    expect(verdicts).toEqual(passwords.map((_, i) => (i % 2 ? 'strong' : 'weak')));
    // a check on the event loop would run to its end before the loop turned at all
    expect(turns).toBeGreaterThan(passwords.length);
  });
});
