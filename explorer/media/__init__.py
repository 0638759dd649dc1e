"""What a melody becomes on disk or screen: audio, MIDI and figures, and the folder the files go to."""
