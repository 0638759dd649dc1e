"""Token vocabulary and musical grid constants shared by every part of the project (MusicVAE's scheme)."""

STEPS_PER_BAR = 16  # sixteenth-note grid: 16 steps in a 4/4 bar
STEPS_PER_QUARTER = 4
MIN_PITCH = 21  # A0, lowest piano key
MAX_PITCH = 108  # C8, highest piano key

HOLD = 0  # continue whatever the previous step did (sounding note or rest)
NOTE_OFF = 1  # end the sounding note; silence follows
FIRST_NOTE_ON = 2  # token of MIN_PITCH; token = pitch - MIN_PITCH + FIRST_NOTE_ON
NUM_PITCHES = MAX_PITCH - MIN_PITCH + 1
VOCAB_SIZE = FIRST_NOTE_ON + NUM_PITCHES  # 90 classes


def pitch_to_token(pitch: int) -> int:
    """Note-on token for a MIDI pitch in [MIN_PITCH, MAX_PITCH]."""
    if not MIN_PITCH <= pitch <= MAX_PITCH:
        raise ValueError(f"pitch {pitch} outside the piano range {MIN_PITCH}..{MAX_PITCH}")
    return pitch - MIN_PITCH + FIRST_NOTE_ON


def token_to_pitch(token: int) -> int:
    """MIDI pitch of a note-on token."""
    if not FIRST_NOTE_ON <= token < VOCAB_SIZE:
        raise ValueError(f"token {token} is not a note-on token")
    return token - FIRST_NOTE_ON + MIN_PITCH


def fold_pitch(pitch: int) -> int:
    """Move a pitch by whole octaves into the piano range (keeps its pitch class)."""
    while pitch < MIN_PITCH:
        pitch += 12
    while pitch > MAX_PITCH:
        pitch -= 12
    return pitch
