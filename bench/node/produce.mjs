// Creates a topic and fills it with VC Encounters (~1.5 KB, the published VCI example with
// its own id each) for the benchmark:  node produce.mjs <bootstrap> <topic> <count> <partitions>
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import kafkajs from 'kafkajs';

const { Kafka, logLevel, CompressionTypes } = kafkajs;
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const [bootstrap, topic, countText, partsText] = process.argv.slice(2);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const spec = process.env.HIEVC_SPEC_DIR ?? join(root, '..', 'shared', 'spec');
const template = JSON.parse(readFileSync(join(spec, 'mycore-ig', 'examples', 'vci-enc-example.json'), 'utf8'));
const k = new Kafka({ clientId: 'bench-produce', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING });
const admin = k.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: Number(partsText), replicationFactor: 1 }], waitForLeaders: true });
await admin.disconnect();
const producer = k.producer();
await producer.connect();
const count = Number(countText);
for (let start = 0; start < count; start += 400) {
  const messages = [];
  for (let i = start; i < Math.min(count, start + 400); i++) {
    const id = `bench-${i}`;
    messages.push({ key: id, value: JSON.stringify({ ...template, id, meta: { ...(template.meta ?? {}), versionId: '1' } }) });
  }
  await producer.send({ topic, messages, compression: CompressionTypes.None });
}
await producer.disconnect();
console.error(`produced ${count} records to ${topic}`);
