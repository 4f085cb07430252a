"""Studies: classic LIF results measured on the engines and set against the closed forms.

Each module runs the emulator (or ngspice) to check a closed form of :mod:`neurochip.lif`:
phase response, strength-duration, channel noise, stochastic resonance, ANN-to-SNN conversion.
They sit above the engines (layer 3 in docs/architecture.md): theory never imports them.
"""
