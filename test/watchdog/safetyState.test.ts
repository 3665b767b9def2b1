import { expect } from 'chai';
import {
  eventOf,
  step,
  EVENTS,
  STATES,
  type SafetyEvent,
  type TickConditions,
  type WatchdogState,
} from '../../nodes/watchdog/safetyState.js';

// Written out here, not imported: the test restates the table (openpilot test_state_machine.py style).
const EXPECTED: Record<WatchdogState, Record<SafetyEvent, WatchdogState>> = {
  disengaged: {
    disengage: 'disengaged',
    fault_moving: 'disengaged',
    fault_stopped: 'disengaged',
    reset_moving: 'disengaged',
    reset_stopped: 'disengaged',
    engage: 'nominal',
    moving: 'disengaged',
    standstill: 'disengaged',
  },
  nominal: {
    disengage: 'disengaged',
    fault_moving: 'fallback',
    fault_stopped: 'fallback',
    reset_moving: 'nominal',
    reset_stopped: 'nominal',
    engage: 'nominal',
    moving: 'nominal',
    standstill: 'nominal',
  },
  fallback: {
    disengage: 'fallback',
    fault_moving: 'fallback',
    fault_stopped: 'stopped',
    reset_moving: 'fallback',
    reset_stopped: 'nominal',
    engage: 'fallback',
    moving: 'fallback',
    standstill: 'stopped',
  },
  stopped: {
    disengage: 'disengaged',
    fault_moving: 'fallback',
    fault_stopped: 'stopped',
    reset_moving: 'fallback',
    reset_stopped: 'nominal',
    engage: 'stopped',
    moving: 'fallback',
    standstill: 'stopped',
  },
};

const none: TickConditions = {
  disengageRequested: false,
  engageRequested: false,
  resetRequested: false,
  faulted: false,
  standstill: false,
};

describe('watchdog/safetyState', () => {
  describe('truth table: every state × every event', () => {
    for (const from of STATES)
      for (const event of EVENTS) {
        const to = EXPECTED[from][event];
        it(`${from} + ${event} → ${to}`, () => expect(step(from, event)).to.equal(to));
      }
  });

  it('lists 4 states and 8 events', () => {
    expect(STATES).to.have.length(4);
    expect(EVENTS).to.have.length(8);
  });

  describe('event priority', () => {
    it('disengage wins over everything', () =>
      expect(
        eventOf({
          disengageRequested: true,
          engageRequested: true,
          resetRequested: true,
          faulted: true,
          standstill: true,
        }),
      ).to.equal('disengage'));
    it('a fault refuses a reset in the same tick', () => {
      expect(eventOf({ ...none, resetRequested: true, faulted: true, standstill: true })).to.equal('fault_stopped');
      expect(step('stopped', eventOf({ ...none, resetRequested: true, faulted: true, standstill: true }))).to.equal(
        'stopped',
      );
    });
    it('a fault refuses an engage', () =>
      expect(step('disengaged', eventOf({ ...none, engageRequested: true, faulted: true }))).to.equal('disengaged'));
    it('a reset while moving is refused, at standstill accepted', () => {
      expect(eventOf({ ...none, resetRequested: true })).to.equal('reset_moving');
      expect(step('fallback', eventOf({ ...none, resetRequested: true }))).to.equal('fallback');
      expect(step('stopped', eventOf({ ...none, resetRequested: true, standstill: true }))).to.equal('nominal');
    });
    it('reset outranks engage, engage outranks plain conditions', () => {
      expect(eventOf({ ...none, resetRequested: true, engageRequested: true, standstill: true })).to.equal(
        'reset_stopped',
      );
      expect(eventOf({ ...none, engageRequested: true, standstill: true })).to.equal('engage');
      expect(eventOf({ ...none, standstill: true })).to.equal('standstill');
      expect(eventOf(none)).to.equal('moving');
    });
    it('fallback is latched: healthy and moving stays fallback until standstill', () => {
      let s: WatchdogState = 'fallback';
      for (let i = 0; i < 100; i++) s = step(s, eventOf(none));
      expect(s).to.equal('fallback');
      expect(step(s, eventOf({ ...none, faulted: true, standstill: true }))).to.equal('stopped');
    });
  });
});
