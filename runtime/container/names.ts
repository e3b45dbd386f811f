// Docker-style random container names ("adjective_surname"), used when a create gives none.
import { randomInt } from 'node:crypto';

const LEFT = [
  'admiring',
  'brave',
  'calm',
  'clever',
  'dazzling',
  'eager',
  'festive',
  'gentle',
  'happy',
  'jolly',
  'keen',
  'lucid',
  'modest',
  'nifty',
  'quirky',
  'serene',
  'tender',
  'upbeat',
  'vibrant',
  'zealous',
];
const RIGHT = [
  'babbage',
  'curie',
  'darwin',
  'euler',
  'fermat',
  'gauss',
  'hopper',
  'kepler',
  'lamport',
  'lovelace',
  'noether',
  'pascal',
  'ritchie',
  'shannon',
  'thompson',
  'turing',
  'wiles',
  'wozniak',
];

export function randomName(): string {
  return `${LEFT[randomInt(LEFT.length)]}_${RIGHT[randomInt(RIGHT.length)]}${randomInt(100) < 10 ? randomInt(10) : ''}`;
}
