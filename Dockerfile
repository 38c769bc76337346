FROM python:3.11-slim
WORKDIR /srv/coop
COPY pyproject.toml README.md LICENSE ./
COPY app ./app
COPY governance ./governance
COPY migrations ./migrations
RUN pip install --no-cache-dir . && useradd --system --home /srv/coop coop
USER coop
EXPOSE 8000
CMD ["coop", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-migrate"]
