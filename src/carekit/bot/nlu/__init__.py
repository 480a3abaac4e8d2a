"""Offline NLU for Russian and English: language, normalization, intents, entities, sentiment.

Pure Python on top of scikit-learn, pymorphy3 and PyStemmer; nothing here touches the database or
downloads anything at run time.
"""
