import { filterCovers, topicFilterProblem, topicMatches, topicNameProblem } from './topic';

describe('topic names and filters', () => {
  it.each([
    ['a/b', null],
    ['', 'empty'],
    ['a/+', 'wildcard_in_topic_name'],
    ['a/#', 'wildcard_in_topic_name'],
    ['a\u0000b', 'null_character'],
    ['x'.repeat(65536), 'too_long'],
  ])('topic name %j → %s', (topic, problem) => expect(topicNameProblem(topic)).toBe(problem));

  it.each([
    ['#', null],
    ['a/+/c', null],
    ['+/+', null],
    ['a/#/b', 'misplaced_multi_level_wildcard'],
    ['a/b#', 'misplaced_multi_level_wildcard'],
    ['a/#/#', 'misplaced_multi_level_wildcard'],
    ['a/b+', 'misplaced_single_level_wildcard'],
    ['', 'empty'],
  ])('topic filter %j → %s [MQTT-4.7.1-2/3]', (filter, problem) => expect(topicFilterProblem(filter)).toBe(problem));
});

describe('topicMatches', () => {
  it.each([
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
    ['sport/#', 'sport', true],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    ['+/+', '/finance', true],
    ['+', '/finance', false],
    ['a/b', 'a/b', true],
    ['a/b', 'a/b/c', false],
    ['#', '$SYS/x', false],
    ['+/monitor/Clients', '$SYS/monitor/Clients', false],
    ['$SYS/#', '$SYS/monitor/Clients', true],
    ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
  ])('%s matches %s: %s [MQTT-4.7.2-1]', (filter, topic, expected) => expect(topicMatches(filter, topic)).toBe(expected));
});

describe('filterCovers', () => {
  const covers = (a: string, r: string) => filterCovers(a.split('/'), r.split('/'));
  it.each([
    ['users/u1/#', 'users/u1/#', true],
    ['users/u1/#', 'users/u1', true],
    ['users/u1/#', 'users/u1/+/x', true],
    ['users/u1/#', 'users/+/x', false],
    ['users/u1/#', '#', false],
    ['users/+/inbox', 'users/u1/inbox', true],
    ['users/+/inbox', 'users/+/inbox', true],
    ['users/+/inbox', 'users/#', false],
    ['users/u1/inbox', 'users/u1/+', false],
    ['#', 'anything/at/all', true],
    ['#', '$SYS/x', false],
    ['+/x', '$SYS/x', false],
    ['a/b', 'a/b/c', false],
  ])('%s covers %s: %s', (allowed, requested, expected) => expect(covers(allowed, requested)).toBe(expected));
});
