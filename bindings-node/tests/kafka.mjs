// kafkajs on the real broker of tests/services/kafka.sh: topics, producing VC Encounters,
// reading a topic back (the dead-letter topic).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import { specDir } from './support.mjs';

const { Kafka, logLevel } = kafkajs;
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

export function kafka(bootstrap) {
  return new Kafka({ clientId: 'hie-vc-node-tests', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING });
}

/** A fresh topic of `partitions` partitions. */
export async function freshTopic(k, prefix, partitions = 3) {
  const topic = `${prefix}-${randomUUID()}`;
  const admin = k.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

const TEMPLATE = JSON.parse(readFileSync(join(specDir(), 'mycore-ig', 'examples', 'vci-enc-example.json'), 'utf8'));

/** A VC Encounter (the published VCI example, ~1.5 KB) with its own id. */
export function encounter(id) {
  return { ...TEMPLATE, id, meta: { ...(TEMPLATE.meta ?? {}), versionId: '1' } };
}

/** Produces `n` VC Encounters (`<prefix>-<i>`), keyed by id, with a header, in batches. */
export async function produceEncounters(k, topic, n, prefix = 'enc') {
  const producer = k.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let start = 0; start < n; start += 1000) {
      const messages = [];
      for (let i = start; i < Math.min(n, start + 1000); i++) {
        const id = `${prefix}-${i}`;
        messages.push({ key: id, value: JSON.stringify(encounter(id)), headers: { 'x-source': 'kafkajs' } });
      }
      await producer.send({ topic, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Every record of `topic` (read from the beginning until `n` came, or `timeoutMs` passed). */
export async function readAll(k, topic, n, timeoutMs = 20_000) {
  const consumer = k.consumer({ groupId: `reader-${randomUUID()}` });
  const out = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    consumer.run({
      eachMessage: async ({ message }) => {
        out.push(message);
        if (out.length >= n) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return out;
}
