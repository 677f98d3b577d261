// Prints the suite's result as one plain closing line ("N passed, N failed, N skipped"),
// read from Vitest's JSON report, so that whoever reads the end of a CI log sees what ran.
import { readFileSync } from 'node:fs';

const [file] = process.argv.slice(2);
const report = JSON.parse(readFileSync(file, 'utf8'));
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
if (report.numTotalTests === 0 || report.numFailedTests > 0) process.exit(1);
