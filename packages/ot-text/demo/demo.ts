/**
 * A one-minute tour of the OT type, until the embedded server lands: two users edit "hello world" at once,
 * the server transforms the second op against the first, and both replicas converge.
 */
import { type } from '../src/index.js';

const base = type.create('hello world');
const alice = [6, { d: 5 }, 'there']; // "hello there"
const bob = [5, ',']; // "hello, world"

const serverAfterAlice = type.apply(base, alice);
const bobTransformed = type.transform(bob, alice, 'left');
const server = type.apply(serverAfterAlice, bobTransformed);

const bobLocal = type.apply(base, bob);
const aliceTransformed = type.transform(alice, bob, 'right');
const bobReplica = type.apply(bobLocal, aliceTransformed);

console.log('base        :', JSON.stringify(base.toString()));
console.log('alice op    :', JSON.stringify(alice));
console.log('bob op      :', JSON.stringify(bob));
console.log("bob' (left) :", JSON.stringify(bobTransformed));
console.log('server      :', JSON.stringify(server.toString()));
console.log('bob replica :', JSON.stringify(bobReplica.toString()));
console.log(server.toString() === bobReplica.toString() ? 'converged ✔' : 'DIVERGED ✘');
