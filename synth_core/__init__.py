"""synth_core: the logic behind the synthetic-data dashboard.

Feature files (HDF5), embedded datasets, audio feature extraction, VAE/CVAE and
autoencoder training, Optuna tuning, generation, t-SNE/PCA maps and evaluation
metrics. Nothing here imports streamlit; the dashboard in ``app.py`` and
``pages/`` and the CLI (``python -m synth_core``) are thin layers over it.
"""

__version__ = "0.1.0"
