"""protrnn: recurrent and convolutional-recurrent protein structure feature prediction."""

__version__ = "0.1.0"
