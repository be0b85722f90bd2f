import { afterAll, afterEach } from 'vitest';
import { installResponseValidator, takeViolations } from './response-validator';

// Every integration test file: each API answer it receives is checked against the documented
// operation (response-validator.ts), and a test that received an undocumented one fails.
installResponseValidator();

function failOnViolations(): void {
  const v = takeViolations();
  if (v.length) throw new Error(`The API answered ${v.length} time(s) outside its documented responses:\n${v.join('\n')}`);
}

afterEach(failOnViolations);
afterAll(failOnViolations);
